// Small DOM and formatting helpers shared by the dashboard modules, the error
// banner, the connection badge, and `vigil`: counters the browser test and a
// developer read from window.__vigil (written here and by the view modules).

import { API } from './api.js';

export const vigil = {
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

export const $ = (sel, root = document) => root.querySelector(sel);

// A new element: attrs `class`, `text` (textContent), `onEVENT` (listener),
// anything else as an attribute; null children are skipped.
export function el(tag, attrs = {}, ...children) {
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

export function fmt(v, digits = 1) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  return Number(v).toFixed(digits);
}

export function fmtDuration(s) {
  if (s == null) return '–';
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

// Track ids are unique across streams (stream number x 10^9 + n): show n.
export function shortId(id) { return id == null ? '' : (Number(id) >= 1e9 ? Number(id) % 1e9 : id); }

export function colorFor(id) {
  const h = (Number(id) * 47) % 360;
  return `hsl(${h} 90% 55%)`;
}

export function showError(msg) {
  vigil.lastError = msg;
  $('#error-text').textContent = msg;
  $('#error').classList.remove('hidden');
}
export function clearError() { $('#error').classList.add('hidden'); }

// The header's API connection badge.
export function setConn(ok, msg) {
  const c = $('#conn');
  c.textContent = ok ? 'connected' : `API unreachable${msg ? ': ' + msg : ''}`;
  c.className = `conn ${ok ? 'ok' : 'bad'}`;
}
