// Vigil dashboard: plain ES module, no framework, no build step.
// Data: GET /api/streams, GET /api/stats (every second), WS /ws/streams/{id}?video=1
// (binary JPEG frames + JSON text messages), WS /ws/events.
// The API base is the page's origin, or ?api=http://host:port when the page is
// opened from a file or another server.

const $ = (sel, root = document) => root.querySelector(sel);

// ---- configuration ----------------------------------------------------------
const params = new URLSearchParams(location.search);
const API = (() => {
  const p = params.get('api');
  if (p) return p.replace(/\/+$/, '');
  if (location.protocol === 'file:') return 'http://127.0.0.1:8080';
  return location.origin;
})();
const WS_BASE = API.replace(/^http/, 'ws');
const TOKEN = params.get('token') || '';
const STATS_MS = 1000;
const STREAMS_MS = 5000;
const MAX_EVENTS = 100;

// Exposed for tests and debugging.
const vigil = {
  api: API,
  boxesDrawn: 0,        // boxes drawn on stream canvases since load
  framesDrawn: 0,       // frames drawn on stream canvases since load
  statsUpdates: 0,      // /api/stats documents applied
  chartDataLength: 0,   // points in the fps sparkline
  eventsReceived: 0,
  streams: {},          // id -> {framesDrawn, boxesDrawn, wsState}
  lastError: '',
};
window.__vigil = vigil;

// ---- helpers ----------------------------------------------------------------
function apiUrl(path) { return API + path; }

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (TOKEN) headers.Authorization = 'Bearer ' + TOKEN;
  let res;
  try {
    res = await fetch(apiUrl(path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`${method} ${path}: ${e.message || 'network error'}`);
  }
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const msg = data && data.error ? data.error : (text || res.statusText);
    const err = new Error(`${res.status}: ${msg}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function fmt(v, digits = 1) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  return Number(v).toFixed(digits);
}

function fmtDuration(s) {
  if (s == null) return '–';
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function showError(msg) {
  vigil.lastError = msg;
  $('#error-text').textContent = msg;
  $('#error').classList.remove('hidden');
}
function clearError() { $('#error').classList.add('hidden'); }
$('#error-close').addEventListener('click', clearError);

// Track ids are unique across streams (stream number x 10^9 + n): show n.
function shortId(id) { return id == null ? '' : (Number(id) >= 1e9 ? Number(id) % 1e9 : id); }

function colorFor(id) {
  const h = (Number(id) * 47) % 360;
  return `hsl(${h} 90% 55%)`;
}

// A WebSocket that reconnects with exponential backoff (0.5 s .. 10 s).
class ReconnectingSocket {
  constructor(url, { onOpen, onMessage, onState, binaryType = 'blob', shouldRetry } = {}) {
    Object.assign(this, { url, onOpen, onMessage, onState, binaryType, shouldRetry });
    this.delay = 500;
    this.closed = false;
    this.timer = null;
    this.connect();
  }
  connect() {
    if (this.closed) return;
    this.onState?.('connecting');
    let ws;
    try { ws = new WebSocket(this.url); } catch { this.retry(); return; }
    ws.binaryType = this.binaryType;
    this.ws = ws;
    ws.onopen = () => { this.delay = 500; this.onState?.('open'); this.onOpen?.(); };
    ws.onmessage = (m) => this.onMessage?.(m);
    ws.onclose = () => { this.ws = null; if (!this.closed) this.retry(); };
    ws.onerror = () => {};
  }
  async retry() {
    if (this.closed) return;
    if (this.shouldRetry && !(await this.shouldRetry())) { this.close(); return; }
    this.onState?.(`retry in ${(this.delay / 1000).toFixed(1)} s`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, 10000);
  }
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) { try { this.ws.close(); } catch { /* ignore */ } }
    this.onState?.('closed');
  }
}

// ---- streams ----------------------------------------------------------------
const streams = new Map();   // id -> view
const grid = $('#grid');

function toPixels(pt, w, h, normalized) {
  return normalized ? [pt[0] * w, pt[1] * h] : [pt[0], pt[1]];
}

// Zones and lines in the config are fractions of the frame, or pixels when any
// value is above 1 (unless `normalized` says otherwise), as docs/config.md says.
function isNormalized(shape, pts) {
  if (typeof shape.normalized === 'boolean') return shape.normalized;
  return pts.every((p) => p[0] <= 1 && p[1] <= 1);
}

class StreamView {
  constructor(entry) {
    this.id = entry.id;
    this.config = entry.config || {};
    this.status = entry.status || {};
    this.bitmap = null;
    this.meta = null;
    this.frameW = 0;
    this.frameH = 0;
    this.framesDrawn = 0;
    this.boxesDrawn = 0;
    this.wsFps = null;
    this.draft = null;         // editor: {mode, points}
    vigil.streams[this.id] = { framesDrawn: 0, boxesDrawn: 0, wsState: 'connecting' };
    this.build();
    this.connect();
  }

  build() {
    this.canvas = el('canvas', { class: 'stream-canvas', width: 640, height: 360, 'data-stream-id': this.id });
    this.stateEl = el('span', { class: 'badge', text: 'connecting' });
    this.statsEl = el('div', { class: 'stream-stats' });
    this.countsEl = el('div', { class: 'stream-counts' });
    this.captionEl = el('p', { class: 'stream-caption muted', text: '' });
    const remove = el('button', {
      type: 'button', class: 'remove', title: `remove stream ${this.id}`, 'data-remove': this.id,
      text: 'Remove', onclick: () => removeStream(this.id),
    });
    this.card = el('article', { class: 'card', 'data-stream-id': this.id },
      el('header', { class: 'card-head' },
        el('span', { class: 'stream-id', text: this.id }), this.stateEl, remove),
      el('div', { class: 'canvas-wrap' }, this.canvas),
      this.statsEl, this.countsEl, this.captionEl);
    this.canvas.addEventListener('click', (e) => editor.click(this, e));
    this.canvas.addEventListener('dblclick', (e) => editor.dblclick(this, e));
    grid.append(this.card);
    this.drawPlaceholder('connecting…');
  }

  connect() {
    const url = `${WS_BASE}/ws/streams/${encodeURIComponent(this.id)}?video=1${TOKEN ? '&token=' + encodeURIComponent(TOKEN) : ''}`;
    this.sock = new ReconnectingSocket(url, {
      onMessage: (m) => this.onMessage(m),
      onState: (s) => {
        vigil.streams[this.id] && (vigil.streams[this.id].wsState = s);
        if (s !== 'open') this.setBadge(s, s === 'closed' ? 'down' : 'wait');
      },
      // Stop retrying once the stream is gone from the server.
      shouldRetry: async () => {
        if (this.removed) return false;
        // A PATCH restarts the stream (remove + add): look twice before dropping the view.
        for (let i = 0; i < 2; i++) {
          try { await api('GET', `/api/streams/${encodeURIComponent(this.id)}`); return true; } catch (e) {
            if (e.status !== 404) return true;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
        dropView(this.id);
        return false;
      },
    });
  }

  setBadge(text, cls) {
    this.stateEl.textContent = text;
    this.stateEl.className = `badge ${cls || ''}`;
  }

  async onMessage(m) {
    if (typeof m.data === 'string') {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.error) { this.setBadge(msg.error, 'down'); return; }
      this.meta = msg;
      this.metaAt = performance.now();
      if (msg.fps != null) this.wsFps = msg.fps;
      if (msg.width && msg.height) { this.frameW = msg.width; this.frameH = msg.height; }
      // Without video (or before the first frame) still draw the overlays.
      if (!this.bitmap) this.draw();
      return;
    }
    let bmp;
    try { bmp = await createImageBitmap(m.data); } catch { return; }
    if (this.removed) { bmp.close?.(); return; }
    if (this.bitmap) this.bitmap.close?.();
    this.bitmap = bmp;
    this.setBadge('live', 'up');
    this.draw();
  }

  drawPlaceholder(text) {
    const c = this.canvas, g = c.getContext('2d');
    g.fillStyle = '#111'; g.fillRect(0, 0, c.width, c.height);
    this.drawPlaceholderText(text);
  }

  drawPlaceholderText(text) {
    const c = this.canvas, g = c.getContext('2d');
    g.fillStyle = '#888'; g.font = '16px system-ui, sans-serif'; g.textAlign = 'center';
    g.fillText(text, c.width / 2, c.height / 2);
    g.textAlign = 'start';
  }

  draw() {
    if (this.removed) return;
    const c = this.canvas;
    const w = this.bitmap ? this.bitmap.width : (this.frameW || c.width);
    const h = this.bitmap ? this.bitmap.height : (this.frameH || c.height);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const g = c.getContext('2d');
    try {
      if (!this.bitmap) throw new Error('no frame');
      g.drawImage(this.bitmap, 0, 0);
    } catch {
      g.fillStyle = '#111'; g.fillRect(0, 0, w, h);
    }
    const s = Math.max(1, w / 640);
    this.drawShapes(g, w, h, s);
    const n = this.drawTracks(g, w, h, s);
    this.drawDraft(g, w, h, s);
    if (this.bitmap) {   // only video frames count
      this.framesDrawn++; vigil.framesDrawn++;
      this.boxesDrawn += n; vigil.boxesDrawn += n;
    }
    const st = vigil.streams[this.id];
    if (st) { st.framesDrawn = this.framesDrawn; st.boxesDrawn = this.boxesDrawn; }
    c.dataset.frames = String(this.framesDrawn);
    c.dataset.boxes = String(this.boxesDrawn);
  }

  drawShapes(g, w, h, s) {
    const occ = this.status.occupancy || {};
    const lc = this.status.line_counts || {};
    g.lineWidth = 2 * s;
    g.font = `${Math.round(12 * s)}px system-ui, sans-serif`;
    for (const z of this.config.zones || []) {
      const pts = z.polygon || [];
      if (pts.length < 3) continue;
      const norm = isNormalized(z, pts);
      const px = pts.map((p) => toPixels(p, w, h, norm));
      g.beginPath();
      px.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.closePath();
      g.fillStyle = 'rgba(0, 200, 255, 0.15)'; g.fill();
      g.strokeStyle = 'rgba(0, 200, 255, 0.9)'; g.stroke();
      const n = Object.values(occ[z.name] || {}).reduce((a, b) => a + b, 0);
      label(g, `${z.name}: ${n}`, px[0][0], px[0][1], 'rgba(0, 120, 160, 0.85)', s);
    }
    for (const l of this.config.lines || []) {
      if (!l.a || !l.b) continue;
      const norm = isNormalized(l, [l.a, l.b]);
      const [ax, ay] = toPixels(l.a, w, h, norm), [bx, by] = toPixels(l.b, w, h, norm);
      g.strokeStyle = 'rgba(255, 220, 0, 0.95)';
      g.setLineDash([8 * s, 5 * s]);
      g.beginPath(); g.moveTo(ax, ay); g.lineTo(bx, by); g.stroke();
      g.setLineDash([]);
      const c = lc[l.name] || {};
      label(g, `${l.name} in ${c.in ?? 0} / out ${c.out ?? 0}`, ax, ay, 'rgba(140, 110, 0, 0.85)', s);
    }
  }

  drawTracks(g, w, h, s) {
    const m = this.meta;
    if (!m || !Array.isArray(m.tracks)) return 0;
    // Results are sent with analysed frames only; do not keep stale boxes.
    if (performance.now() - (this.metaAt || 0) > 3000) return 0;
    const sx = m.width ? w / m.width : 1, sy = m.height ? h / m.height : 1;
    let n = 0;
    g.lineWidth = 2 * s;
    g.font = `${Math.round(12 * s)}px system-ui, sans-serif`;
    for (const t of m.tracks) {
      if (!t.box || t.box.length < 4) continue;
      const [x1, y1, x2, y2] = t.box;
      const col = colorFor(t.id ?? 0);
      g.strokeStyle = col;
      g.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
      const score = t.score != null ? ` ${Number(t.score).toFixed(2)}` : '';
      label(g, `${t.class ?? ''}${score} #${shortId(t.id)}`, x1 * sx, y1 * sy, col, s, '#000');
      n++;
    }
    return n;
  }

  drawDraft(g, w, h, s) {
    const d = this.draft;
    if (!d || !d.points.length) return;
    const px = d.points.map((p) => [p[0] * w, p[1] * h]);
    g.strokeStyle = '#ff3df0'; g.fillStyle = '#ff3df0'; g.lineWidth = 2 * s;
    g.beginPath();
    px.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
    for (const [x, y] of px) { g.beginPath(); g.arc(x, y, 4 * s, 0, Math.PI * 2); g.fill(); }
  }

  updateStatus(st) {
    this.status = st || {};
    const drops = st.drops || {};
    const dropTotal = Object.values(drops).reduce((a, b) => a + b, 0);
    const dropTitle = Object.entries(drops).map(([k, v]) => `${k}: ${v}`).join('\n') || 'no drops';
    this.statsEl.replaceChildren(...[
      stat('fps', fmt(st.display_fps)),
      stat('analysed', fmt(st.analysed_fps)),
      stat('every', st.every_effective ?? st.every ?? '–'),
      stat('tracks', st.tracks ?? '–'),
      stat('drops', dropTotal, dropTitle, 'drops'),
      st.width ? stat('size', `${st.width}×${st.height}`) : null,
      this.wsFps != null ? stat('view fps', fmt(this.wsFps)) : null,
    ].filter(Boolean));
    const counts = [];
    for (const [zone, byClass] of Object.entries(st.occupancy || {})) {
      const total = Object.values(byClass).reduce((a, b) => a + b, 0);
      const detail = Object.entries(byClass).map(([k, v]) => `${k} ${v}`).join(', ');
      counts.push(el('span', { class: 'count zone', 'data-zone': zone, text: `▣ ${zone}: ${total}${detail ? ` (${detail})` : ''}` }));
    }
    for (const [line, c] of Object.entries(st.line_counts || {})) {
      counts.push(el('span', { class: 'count line', 'data-line': line, text: `━ ${line}: in ${c.in ?? 0} · out ${c.out ?? 0}` }));
    }
    this.countsEl.replaceChildren(...counts);
    if (st.up === false) {
      this.setBadge(st.ended ? 'ended' : 'down', 'down');
      this.card.title = st.last_error || '';
    } else if (this.sock?.ws?.readyState === 1 && this.bitmap) {
      this.setBadge('live', 'up');
    }
    if (!this.bitmap) {
      // No video yet: show the zones and lines on a frame-sized placeholder.
      if (st.width && st.height) { this.frameW = st.width; this.frameH = st.height; }
      this.draw();
      if (!this.meta) this.drawPlaceholderText(st.up === false ? (st.last_error || 'down') : 'waiting for video…');
    }
  }

  destroy() {
    this.removed = true;
    this.sock?.close();
    this.bitmap?.close?.();
    this.bitmap = null;
    this.card.remove();
    delete vigil.streams[this.id];
  }
}

function stat(k, v, title, cls) {
  return el('span', { class: `stat ${cls || ''}`, title: title || '' },
    el('span', { class: 'k', text: k }), el('span', { class: 'v', text: String(v) }));
}

function label(g, text, x, y, bg, s, fg = '#fff') {
  const pad = 3 * s, hgt = Math.round(14 * s);
  const tw = g.measureText(text).width;
  const ty = y - hgt < 0 ? y : y - hgt;
  x = Math.max(0, Math.min(x, g.canvas.width - tw - 2 * pad));
  g.fillStyle = bg; g.fillRect(x, ty, tw + 2 * pad, hgt);
  g.fillStyle = fg; g.textBaseline = 'top'; g.fillText(text, x + pad, ty + 1 * s);
  g.textBaseline = 'alphabetic';
}

let removals = 0;   // a listing fetched before a removal must not bring it back

function dropView(id) {
  const v = streams.get(id);
  removals++;
  if (!v) return;
  v.destroy();
  streams.delete(id);
  editor.streamsChanged();
  $('#no-streams').classList.toggle('hidden', streams.size > 0);
}

async function refreshStreams() {
  const epoch = removals;
  let data;
  try { data = await api('GET', '/api/streams'); } catch (e) { setConn(false, e.message); return; }
  if (epoch !== removals) return;
  const list = data?.streams || [];
  const seen = new Set();
  for (const entry of list) {
    seen.add(entry.id);
    const v = streams.get(entry.id);
    if (!v) streams.set(entry.id, new StreamView(entry));
    else {
      const changed = JSON.stringify(v.config) !== JSON.stringify(entry.config);
      v.config = entry.config || {};
      if (changed && !v.bitmap) v.draw();
    }
  }
  for (const id of [...streams.keys()]) if (!seen.has(id)) dropView(id);
  $('#no-streams').classList.toggle('hidden', streams.size > 0);
  editor.streamsChanged();
}

async function removeStream(id) {
  clearError();
  try {
    await api('DELETE', `/api/streams/${encodeURIComponent(id)}`);
    dropView(id);
  } catch (e) {
    showError(`Could not remove ${id}: ${e.message}`);
    if (e.status === 404) dropView(id);
  }
}

$('#add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearError();
  const body = { id: $('#add-id').value.trim(), url: $('#add-url').value.trim() };
  const every = parseInt($('#add-every').value, 10);
  if (!Number.isNaN(every)) body.every = every;
  if ($('#add-loop').checked) body.loop = true;
  const btn = $('#add-submit');
  btn.disabled = true;
  try {
    const entry = await api('POST', '/api/streams', body);
    if (entry && entry.id && !streams.has(entry.id)) streams.set(entry.id, new StreamView(entry));
    $('#add-id').value = '';
    await refreshStreams();
  } catch (e) {
    showError(`Could not add stream: ${e.message}`);
  } finally {
    btn.disabled = false;
  }
});

// ---- stats + performance panel ----------------------------------------------
function setConn(ok, msg) {
  const c = $('#conn');
  c.textContent = ok ? 'connected' : `API unreachable${msg ? ': ' + msg : ''}`;
  c.className = `conn ${ok ? 'ok' : 'bad'}`;
}

const CHARTS = [
  { key: 'fps', label: 'FPS', unit: '', color: '#4ade80', get: (s) => s.history?.fps },
  { key: 'inference', label: 'inference', unit: 'ms', color: '#60a5fa', get: (s) => s.history?.inference_avg_ms },
  { key: 'cpu', label: 'CPU', unit: '%', color: '#f59e0b', get: (s) => s.history?.cpu_percent },
  { key: 'ram', label: 'RAM', unit: 'MB', color: '#c084fc', get: (s) => s.history?.ram_mb },
  { key: 'gpu', label: 'GPU', unit: '%', color: '#f87171', optional: true,
    get: (s) => s.history?.gpu_percent || s.history?.gpu_utilization_percent || gpuHistory(s) },
];
const charts = {};
const gpuSeries = [];

// When the server keeps no GPU history, build one from the `gpus` samples.
function gpuHistory(s) {
  if (!Array.isArray(s.gpus) || !s.gpus.length) return null;
  const avg = s.gpus.reduce((a, g) => a + (g.utilization_percent || 0), 0) / s.gpus.length;
  gpuSeries.push(avg);
  if (gpuSeries.length > 120) gpuSeries.shift();
  return gpuSeries;
}

function chartWidth() { return Math.max(200, $('#charts').clientWidth - 4); }

function ensureChart(def) {
  if (charts[def.key]) return charts[def.key];
  if (typeof window.uPlot !== 'function') return null;
  const box = el('div', { class: 'chart', 'data-chart': def.key });
  const head = el('div', { class: 'chart-head' },
    el('span', { class: 'k', text: def.label }), el('span', { class: 'v', text: '–' }));
  box.append(head);
  $('#charts').append(box);
  const opts = {
    width: chartWidth(), height: 60,
    legend: { show: false }, cursor: { show: false },
    scales: { x: { time: false } },
    axes: [{ show: false }, { size: 40, stroke: '#8a93a6', grid: { stroke: '#2a3040', width: 1 }, ticks: { show: false },
      font: '10px system-ui', values: (u, vals) => vals.map((v) => (Math.abs(v) >= 1000 ? (v / 1000).toFixed(1) + 'k' : +v.toFixed(1))) }],
    series: [{}, { stroke: def.color, width: 1.5, fill: def.color + '22', points: { show: false } }],
  };
  const plot = new window.uPlot(opts, [[], []], box);
  charts[def.key] = { plot, head, box };
  return charts[def.key];
}

function updateCharts(s) {
  for (const def of CHARTS) {
    const ys = def.get(s);
    if (!Array.isArray(ys) || !ys.length) { if (!def.optional) ensureChart(def); continue; }
    const c = ensureChart(def);
    if (!c) continue;
    const xs = ys.map((_, i) => i - ys.length + 1);
    c.plot.setData([xs, ys.map(Number)]);
    c.head.lastChild.textContent = `${fmt(ys[ys.length - 1])} ${def.unit}`;
    if (def.key === 'fps') vigil.chartDataLength = ys.length;
  }
}

window.addEventListener('resize', () => {
  for (const c of Object.values(charts)) c.plot.setSize({ width: chartWidth(), height: 60 });
});

function updatePerf(s) {
  $('#kpi-fps').textContent = fmt(s.current_fps);
  $('#kpi-ips').textContent = fmt(s.inferences_per_sec);
  $('#kpi-inf').textContent = `${fmt(s.inference_avg_ms ?? s.inference_time_ms)} ms`;
  $('#kpi-batch').textContent = fmt(s.batch_size_avg ?? s.batch_size, 2);
  $('#kpi-queue').textContent = s.queue_size ?? '–';
  $('#kpi-streams').textContent = `${s.active_streams ?? '–'}/${(s.streams || []).length}`;
  $('#kpi-cpu').textContent = `${fmt(s.cpu_percent, 0)} %`;
  $('#kpi-ram').textContent = `${fmt(s.ram_mb ?? s.ram_used_mb, 0)} MB`;
  $('#kpi-provider').textContent = s.provider || '–';
  $('#kpi-uptime').textContent = fmtDuration(s.uptime_s);
  if (Array.isArray(s.gpus) && s.gpus.length) {
    $('#perf-sub').textContent = s.gpus.map((g) =>
      `GPU${g.index} ${g.name || ''} ${g.utilization_percent ?? '–'}% · ${fmt(g.memory_used_mb, 0)}/${fmt(g.memory_total_mb, 0)} MB`).join(' | ');
  }
  updateCharts(s);

  const bottleneck = s.bottleneck || '';
  $('#bottleneck').textContent = bottleneck || '–';
  const load = s.stage_load_ms_per_s || {};
  const rows = Object.entries(s.stages || {}).map(([name, st]) => {
    const tr = el('tr', { 'data-stage': name, class: name === bottleneck ? 'bottleneck' : '' },
      el('td', { text: name }), el('td', { text: fmt(st.avg_ms, 2) }), el('td', { text: fmt(st.p95_ms, 2) }),
      el('td', { text: fmt(load[name], 1) }), el('td', { text: st.count ?? '–' }));
    return tr;
  });
  $('#stages tbody').replaceChildren(...rows);
  const al = s.analysis_latency;
  $('#latency').textContent = al ? `analysis latency (capture → result): avg ${fmt(al.avg_ms)} ms, p95 ${fmt(al.p95_ms)} ms, p99 ${fmt(al.p99_ms)} ms` : '';
}

let statsBusy = false;
async function pollStats() {
  if (statsBusy) return;
  statsBusy = true;
  try {
    const epoch = removals;
    const s = await api('GET', '/api/stats');
    setConn(true);
    if (epoch !== removals) return;
    updatePerf(s);
    const ids = new Set();
    for (const st of s.streams || []) {
      ids.add(st.id);
      streams.get(st.id)?.updateStatus(st);
    }
    // A stream the stats know but the grid does not (added elsewhere) or the reverse.
    if ([...ids].some((id) => !streams.has(id)) || [...streams.keys()].some((id) => !ids.has(id))) refreshStreams();
    vigil.statsUpdates++;
  } catch (e) {
    setConn(false, e.message);
  } finally {
    statsBusy = false;
  }
}

// ---- events feed ----------------------------------------------------------------
const eventsList = $('#events');

function describeEvent(ev) {
  const who = ev.track_id != null ? `${ev.class ?? ''} #${shortId(ev.track_id)}` : '';
  switch (ev.kind) {
    case 'zone_enter': return `${who} entered ${ev.zone}`;
    case 'zone_exit': return `${who} left ${ev.zone} after ${fmt(ev.dwell_s)} s`;
    case 'dwell': return `${who} in ${ev.zone} for ${fmt(ev.dwell_s)} s`;
    case 'line_cross': return `${who} crossed ${ev.line} (${ev.direction})`;
    case 'track_new': return `new track ${who}`;
    case 'track_lost': return `lost track ${who}`;
    case 'stream_up': return 'stream up';
    case 'stream_down': return `stream down${ev.text ? ': ' + ev.text : ''}`;
    case 'caption': return ev.text || '';
    default: return who;
  }
}

function showCaption(ev) {
  const v = streams.get(ev.stream);
  if (!v || !v.captionEl) return;
  v.captionEl.textContent = ev.text || '';
  v.captionEl.title = `${ev.captioner || ''} caption at ${fmt(ev.pts)} s, ${fmt(ev.latency_ms, 0)} ms`;
  vigil.captionsShown = (vigil.captionsShown || 0) + 1;
}

function addEvent(ev) {
  if (!ev || typeof ev !== 'object' || !ev.kind) return;
  vigil.eventsReceived++;
  if (ev.kind === 'caption') showCaption(ev);
  const t = ev.wall_time ? new Date(ev.wall_time * 1000).toLocaleTimeString([], { hour12: false }) : '';
  const li = el('li', { class: `ev ev-${ev.kind}`, title: JSON.stringify(ev) },
    el('span', { class: 'ev-time', text: t }),
    el('span', { class: 'ev-stream', text: ev.stream }),
    el('span', { class: 'ev-kind', text: ev.kind }),
    el('span', { class: 'ev-text', text: describeEvent(ev) }));
  eventsList.prepend(li);
  while (eventsList.children.length > MAX_EVENTS) eventsList.lastChild.remove();
}

new ReconnectingSocket(`${WS_BASE}/ws/events${TOKEN ? '?token=' + encodeURIComponent(TOKEN) : ''}`, {
  onState: (s) => { $('#events-state').textContent = s === 'open' ? 'live' : s; },
  onMessage: (m) => {
    if (typeof m.data !== 'string') return;
    let d;
    try { d = JSON.parse(m.data); } catch { return; }
    if (Array.isArray(d)) d.forEach(addEvent);
    else if (Array.isArray(d?.events)) d.events.forEach(addEvent);
    else addEvent(d);
  },
});

// ---- zone and line editor ---------------------------------------------------------
const editor = {
  active: null,   // StreamView being drawn on

  streamsChanged() {
    const sel = $('#ed-stream');
    const cur = sel.value;
    const ids = [...streams.keys()];
    if (sel.options.length !== ids.length || ids.some((id, i) => sel.options[i].value !== id)) {
      sel.replaceChildren(...ids.map((id) => el('option', { value: id, text: id })));
      if (ids.includes(cur)) sel.value = cur;
    }
    if (this.active && !streams.has(this.active.id)) this.cancel();
    this.renderList();
  },

  view() { return streams.get($('#ed-stream').value); },
  mode() { return $('#ed-mode').value; },

  start() {
    const v = this.view();
    if (!v) { showError('Pick a stream first'); return; }
    this.cancel();
    this.active = v;
    v.draft = { mode: this.mode(), points: [] };
    v.card.classList.add('editing');
    this.buttons();
    this.hint();
    v.card.scrollIntoView({ block: 'nearest' });
  },

  cancel() {
    if (this.active) {
      this.active.draft = null;
      this.active.card.classList.remove('editing');
      this.active.draw();
    }
    this.active = null;
    this.buttons();
    this.hint();
  },

  point(v, e) {
    const r = v.canvas.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
  },

  click(v, e) {
    if (this.active !== v || !v.draft) return;
    const d = v.draft;
    if (d.closed) return;
    const p = this.point(v, e);
    const last = d.points[d.points.length - 1];
    // The clicks of a double-click land on the same spot: keep one point.
    if (last && Math.abs(last[0] - p[0]) < 0.005 && Math.abs(last[1] - p[1]) < 0.005) return;
    if (d.mode === 'line' && d.points.length >= 2) return;
    d.points.push(p);
    if (d.mode === 'line' && d.points.length === 2) d.closed = true;
    v.draw();
    this.buttons();
    this.hint();
  },

  dblclick(v, e) {
    if (this.active !== v || !v.draft || v.draft.mode !== 'zone') return;
    e.preventDefault();
    if (v.draft.points.length >= 3) { v.draft.closed = true; v.draw(); }
    this.buttons();
    this.hint();
  },

  undo() {
    const v = this.active;
    if (!v?.draft?.points.length) return;
    v.draft.points.pop();
    v.draft.closed = false;
    v.draw();
    this.buttons();
    this.hint();
  },

  ready() {
    const d = this.active?.draft;
    if (!d) return false;
    return d.mode === 'line' ? d.points.length === 2 : d.points.length >= 3;
  },

  buttons() {
    const drawing = !!this.active;
    $('#ed-start').disabled = drawing;
    $('#ed-cancel').disabled = !drawing;
    $('#ed-undo').disabled = !drawing || !this.active.draft.points.length;
    $('#ed-save').disabled = !this.ready();
  },

  hint() {
    const d = this.active?.draft;
    let t;
    if (!d) t = 'Pick a stream, then start drawing on its video.';
    else if (d.mode === 'line') t = `Line on ${this.active.id}: ${d.points.length}/2 points. Walking from the first point to the second, left → right is "in".`;
    else t = `Zone on ${this.active.id}: ${d.points.length} points${d.closed ? ' (closed)' : ''}; double-click to close, at least 3.`;
    $('#ed-hint').textContent = t;
  },

  async save() {
    const v = this.active;
    if (!v || !this.ready()) return;
    const name = $('#ed-name').value.trim();
    if (!name) { showError('Give the zone or line a name'); return; }
    const d = v.draft;
    let body;
    if (d.mode === 'zone') {
      const zone = { name, polygon: d.points };
      const dwell = parseFloat($('#ed-dwell').value);
      if (dwell > 0) zone.dwell_s = dwell;
      body = { zones: [...(v.config.zones || []).filter((z) => z.name !== name), zone] };
    } else {
      body = { lines: [...(v.config.lines || []).filter((l) => l.name !== name), { name, a: d.points[0], b: d.points[1] }] };
    }
    await this.patch(v, body, () => { this.cancel(); $('#ed-name').value = ''; });
  },

  async remove(v, kind, name) {
    const key = kind === 'zone' ? 'zones' : 'lines';
    await this.patch(v, { [key]: (v.config[key] || []).filter((s) => s.name !== name) });
  },

  async patch(v, body, onOk) {
    clearError();
    try {
      const entry = await api('PATCH', `/api/streams/${encodeURIComponent(v.id)}`, body);
      if (entry?.config) v.config = entry.config;
      onOk?.();
      v.draw();
      this.renderList();
      refreshStreams();
    } catch (e) {
      showError(`Could not update ${v.id}: ${e.message}`);
    }
  },

  renderList() {
    const v = this.view();
    const items = [];
    if (v) {
      for (const z of v.config.zones || []) {
        items.push(el('li', {}, el('span', { text: `zone ${z.name}` }),
          el('span', { class: 'muted small', text: ` ${(z.polygon || []).length} points${z.dwell_s ? `, dwell ${z.dwell_s} s` : ''}` }),
          el('button', { type: 'button', class: 'small-btn', title: `delete zone ${z.name}`, text: '×', onclick: () => this.remove(v, 'zone', z.name) })));
      }
      for (const l of v.config.lines || []) {
        items.push(el('li', {}, el('span', { text: `line ${l.name}` }),
          el('button', { type: 'button', class: 'small-btn', title: `delete line ${l.name}`, text: '×', onclick: () => this.remove(v, 'line', l.name) })));
      }
    }
    $('#ed-list').replaceChildren(...items);
  },
};

$('#ed-start').addEventListener('click', () => editor.start());
$('#ed-cancel').addEventListener('click', () => editor.cancel());
$('#ed-undo').addEventListener('click', () => editor.undo());
$('#ed-save').addEventListener('click', () => editor.save());
$('#ed-stream').addEventListener('change', () => { editor.cancel(); editor.renderList(); });
$('#ed-mode').addEventListener('change', () => {
  $('#ed-dwell-label').classList.toggle('hidden', editor.mode() !== 'zone');
  if (editor.active) editor.start();
});
vigil.editor = editor;

// ---- jobs (offline analysis) ---------------------------------------------------------
const JOBS_MS = 2000;
const jobs = {
  views: new Map(),   // id -> {row, bar, ...}
  sockets: new Map(), // id -> WebSocket of a job that is queued or running
  visible: false,
  list: [],
  messages: 0,        // progress messages received over WebSockets
};
vigil.jobs = jobs;

function showTab(name) {
  const live = name === 'live';
  $('#live-view').classList.toggle('hidden', !live);
  $('#jobs-view').classList.toggle('hidden', live);
  $('#tab-live').classList.toggle('active', live);
  $('#tab-jobs').classList.toggle('active', !live);
  $('#tab-live').setAttribute('aria-selected', String(live));
  $('#tab-jobs').setAttribute('aria-selected', String(!live));
  jobs.visible = !live;
  if (!live) refreshJobs();
}
$('#tab-live').addEventListener('click', () => showTab('live'));
$('#tab-jobs').addEventListener('click', () => showTab('jobs'));

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
  if (j.report) actions.push(el('a', { href: apiUrl(j.report) + (TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''), target: '_blank', text: 'report', class: 'report-link' }));
  if (j.state === 'queued' || j.state === 'running') {
    actions.push(el('button', { type: 'button', class: 'small-btn', text: 'cancel', onclick: () => cancelJob(j.id) }));
  }
  v.actions.replaceChildren(...actions);
  return v.row;
}

function watchJob(j) {
  if (jobs.sockets.has(j.id) || !(j.state === 'queued' || j.state === 'running')) return;
  const ws = new WebSocket(`${WS_BASE}/ws/jobs/${j.id}${TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''}`);
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

async function refreshJobs() {
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

$('#job-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearError();
  const body = { path: $('#job-path').value.trim(), sample_fps: Number($('#job-fps').value), chunk_s: Number($('#job-chunk').value) };
  const classes = $('#job-classes').value.split(',').map((c) => c.trim()).filter(Boolean);
  if (classes.length) body.classes = classes;
  try {
    const j = await api('POST', '/api/jobs', body);
    $('#job-path').value = '';
    jobs.list.push(j);
    await refreshJobs();
  } catch (e) {
    showError(`start job: ${e.message}`);
  }
});

// ---- start --------------------------------------------------------------------------
refreshStreams();
pollStats();
setInterval(pollStats, STATS_MS);
setInterval(refreshStreams, STREAMS_MS);
refreshJobs();
setInterval(() => { if (jobs.visible) refreshJobs(); }, JOBS_MS);
