// The Jobs tab: offline analysis jobs (GET /api/jobs, POST to start one,
// DELETE to cancel), one table row per job with its progress bar and chunk
// cells; a queued or running job's row follows WS /ws/jobs/{id} (progress
// messages) until the job ends. main.js refreshes the list while the tab is shown.
// The Upload button sends a chosen file to POST /api/uploads (XMLHttpRequest,
// for its upload progress), then queues it as a job with the form's settings.

import { TOKEN, api, apiUrl, withToken, wsUrl } from './api.js';
import { $, clearError, el, fmt, fmtDuration, showError, vigil } from './dom.js';

export const jobs = {
  views: new Map(),   // id -> {row, bar, ...}
  sockets: new Map(), // id -> WebSocket of a job that is queued or running
  visible: false,
  list: [],
  messages: 0,        // progress messages received over WebSockets
  uploaded: [],       // names of the files uploaded from this page
};

function jobProgress(j) { return (j.progress && j.progress.progress) || 0; }

function renderJobRow(j) {
  let v = jobs.views.get(j.id);
  if (!v) {
    v = {
      row: el('tr', { 'data-job': String(j.id) }),
      bar: el('progress', { max: '1', value: '0' }),
      pct: el('span', { class: 'muted small' }),
      state: el('td'), speed: el('td'), eta: el('td'),
      cells: el('div', { class: 'chunk-cells' }),
      actions: el('td'),
    };
    v.row.append(el('td', { text: String(j.id) }), el('td', { text: (j.video || '').split('/').pop(), title: j.video || '' }),
      v.state, el('td', {}, v.bar, ' ', v.pct), v.speed, v.eta, el('td', {}, v.cells), v.actions);
    jobs.views.set(j.id, v);
  }
  const p = j.progress || {};
  const f = jobProgress(j);
  v.bar.value = f;
  v.pct.textContent = `${(f * 100).toFixed(1)}%`;
  v.state.textContent = j.state + (p.chunks_failed ? ` (${p.chunks_failed} failed)` : '');
  v.state.className = `job-state-${j.state}`;
  v.speed.textContent = p.speed ? `${fmt(p.speed)}x` : '–';
  v.eta.textContent = p.eta_s != null && j.state === 'running' ? fmtDuration(p.eta_s) : '–';
  const states = p.chunk_states || (j.chunks || []).map((c) => c.state);
  if (states.length) {
    v.cells.replaceChildren(...states.map((s, i) => el('i', { class: s, title: `chunk ${i}: ${s}` })));
  }
  const actions = [];
  if (j.report) actions.push(el('a', { href: apiUrl(withToken(j.report)), target: '_blank', text: 'report', class: 'report-link' }));
  if (j.state === 'queued' || j.state === 'running') {
    actions.push(el('button', { type: 'button', class: 'small-btn', text: 'cancel', onclick: () => cancelJob(j.id) }));
  }
  v.actions.replaceChildren(...actions);
  return v.row;
}

function watchJob(j) {
  if (jobs.sockets.has(j.id) || !(j.state === 'queued' || j.state === 'running')) return;
  const ws = new WebSocket(wsUrl(withToken(`/ws/jobs/${j.id}`)));
  jobs.sockets.set(j.id, ws);
  ws.onmessage = (m) => {
    let p;
    try { p = JSON.parse(m.data); } catch { return; }
    jobs.messages++;
    const cur = jobs.list.find((x) => x.id === j.id) || j;
    cur.progress = Object.assign({}, cur.progress, p);
    if (p.state) cur.state = p.state === 'pending' ? 'queued' : p.state;
    renderJobRow(cur);
    if (['done', 'failed', 'cancelled'].includes(cur.state)) refreshJobs();
  };
  ws.onclose = () => { jobs.sockets.delete(j.id); };
}

export async function refreshJobs() {
  let data;
  try { data = await api('GET', '/api/jobs'); } catch (e) {
    if (e.status === 503) { $('#jobs-sub').textContent = 'offline jobs are not enabled on this server'; return; }
    return;
  }
  jobs.list = data.jobs || [];
  const active = jobs.list.filter((j) => j.state === 'queued' || j.state === 'running').length;
  $('#jobs-badge').textContent = String(active);
  $('#jobs-badge').classList.toggle('hidden', active === 0);
  $('#no-jobs').classList.toggle('hidden', jobs.list.length > 0);
  $('#jobs-sub').textContent = jobs.list.length ? `${jobs.list.length} jobs, ${active} active` : '';
  const rows = [...jobs.list].reverse().map((j) => renderJobRow(j));
  $('#jobs tbody').replaceChildren(...rows);
  for (const j of jobs.list) watchJob(j);
}

async function cancelJob(id) {
  clearError();
  try { await api('DELETE', `/api/jobs/${id}`); } catch (e) { showError(`cancel job ${id}: ${e.message}`); }
  refreshJobs();
}

// The job form's settings for a file of the media directory.
function jobBody(path) {
  const body = { path, sample_fps: Number($('#job-fps').value), chunk_s: Number($('#job-chunk').value) };
  const classes = $('#job-classes').value.split(',').map((c) => c.trim()).filter(Boolean);
  if (classes.length) body.classes = classes;
  return body;
}

async function queueJob(path) {
  const j = await api('POST', '/api/jobs', jobBody(path));
  jobs.list.push(j);
  await refreshJobs();
}

async function startJob(ev) {
  ev.preventDefault();
  clearError();
  try {
    await queueJob($('#job-path').value.trim());
    $('#job-path').value = '';
  } catch (e) {
    showError(`start job: ${e.message}`);
  }
}

// A name the server accepts (letters, digits, . _ -; not starting with '.').
function uploadName(fileName) {
  return fileName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
}

// POST /api/uploads with the file as the body; resolves to the server's answer,
// rejects with Error("STATUS: message"). onProgress(fraction) as bytes go out.
function sendUpload(file, name, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiUrl(`/api/uploads?name=${encodeURIComponent(name)}`));
    if (TOKEN) xhr.setRequestHeader('Authorization', 'Bearer ' + TOKEN);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status === 201) return resolve(data);
      reject(new Error(`${xhr.status}: ${(data && data.error) || xhr.statusText}`));
    };
    xhr.onerror = () => reject(new Error('the upload was cut off (network error)'));
    xhr.send(file);
  });
}

async function uploadChosenFile() {
  const input = $('#upload-file');
  const file = input.files && input.files[0];
  input.value = '';
  if (!file) return;
  clearError();
  const name = uploadName(file.name);
  const bar = $('#upload-progress');
  const status = $('#upload-status');
  bar.value = 0;
  bar.classList.remove('hidden');
  status.textContent = `uploading ${name}…`;
  try {
    await sendUpload(file, name, (f) => { bar.value = f; status.textContent = `uploading ${name}: ${(f * 100).toFixed(0)}%`; });
    bar.value = 1;
    jobs.uploaded.push(name);
    status.textContent = `uploaded ${name}; queueing it`;
    await queueJob(name);
    status.textContent = `uploaded ${name}; job queued`;
  } catch (e) {
    status.textContent = '';
    showError(`upload ${name}: ${e.message}`);
  } finally {
    bar.classList.add('hidden');
  }
}

// Wires the job form; `jobs` is exposed as window.__vigil.jobs for the tests.
export function initJobs() {
  $('#job-form').addEventListener('submit', startJob);
  $('#upload-button').addEventListener('click', () => $('#upload-file').click());
  $('#upload-file').addEventListener('change', uploadChosenFile);
  vigil.jobs = jobs;
}
