// The stream grid: one StreamView per stream the server lists (GET
// /api/streams, refreshed by main.js), the "Add a stream" form (POST) and the
// Remove buttons (DELETE), the Enable / Disable buttons (PATCH enabled). `streams` (id -> StreamView) is read by the editor,
// the stats poll and the events feed; only this module adds or drops views.
// The editor hooks in through initStreams() (stream list changes, canvas clicks).

import { api } from './api.js';
import { $, clearError, setConn, showError } from './dom.js';
import { StreamView } from './stream_view.js';

export const streams = new Map();   // id -> StreamView

// initStreams() replaces these: {onChanged() after the grid changed,
// onClick(view, event), onDblClick(view, event) on a stream canvas}.
const handlers = { onChanged() {}, onClick() {}, onDblClick() {} };

let removals = 0;   // a listing fetched before a removal must not bring it back

// Bumped by every removal: a caller that fetched before a removal compares it
// and drops its now stale answer.
export function removalEpoch() { return removals; }

function newView(entry) {
  return new StreamView(entry, {
    grid: $('#grid'),
    onRemove: (id) => removeStream(id),
    onToggle: (id, enable) => setEnabled(id, enable),
    onGone: (id) => dropView(id),
    onClick: (v, e) => handlers.onClick(v, e),
    onDblClick: (v, e) => handlers.onDblClick(v, e),
  });
}

function dropView(id) {
  const v = streams.get(id);
  removals++;
  if (!v) return;
  v.destroy();
  streams.delete(id);
  handlers.onChanged();
  $('#no-streams').classList.toggle('hidden', streams.size > 0);
}

export async function refreshStreams() {
  const epoch = removals;
  let data;
  try { data = await api('GET', '/api/streams'); } catch (e) { setConn(false, e.message); return; }
  if (epoch !== removals) return;
  const list = data?.streams || [];
  const seen = new Set();
  for (const entry of list) {
    seen.add(entry.id);
    const v = streams.get(entry.id);
    // Disabled <-> running: a new card (a disabled one has no video socket).
    if (v && (v.state === 'disabled') !== (entry.state === 'disabled')) {
      v.destroy();
      streams.set(entry.id, newView(entry));
    } else if (!v) streams.set(entry.id, newView(entry));
    else {
      const changed = JSON.stringify(v.config) !== JSON.stringify(entry.config);
      v.config = entry.config || {};
      if (changed && !v.bitmap) v.draw();
    }
  }
  for (const id of [...streams.keys()]) if (!seen.has(id)) dropView(id);
  $('#no-streams').classList.toggle('hidden', streams.size > 0);
  handlers.onChanged();
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

// PATCH {enabled}: false stops the stream and keeps its settings, true runs it again.
async function setEnabled(id, enabled) {
  clearError();
  try {
    await api('PATCH', `/api/streams/${encodeURIComponent(id)}`, { enabled });
    await refreshStreams();
  } catch (e) {
    showError(`Could not ${enabled ? 'enable' : 'disable'} ${id}: ${e.message}`);
  }
}

async function addStream(ev) {
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
    if (entry && entry.id && !streams.has(entry.id)) streams.set(entry.id, newView(entry));
    $('#add-id').value = '';
    await refreshStreams();
  } catch (e) {
    showError(`Could not add stream: ${e.message}`);
  } finally {
    btn.disabled = false;
  }
}

// Wires the add form; `h` = {onChanged, onClick, onDblClick} (see handlers).
export function initStreams(h) {
  Object.assign(handlers, h);
  $('#add-form').addEventListener('submit', addStream);
}
