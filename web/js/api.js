// The server's API: where it is, the token, JSON requests and WebSockets that
// reconnect. No DOM access; every other module talks to the server through here.
// The API base is the page's origin, or ?api=http://host:port when the page is
// opened from a file or another server; ?token=T sends `Authorization: Bearer T`
// (and `token=T` on WebSocket URLs, which carry no headers).

const params = new URLSearchParams(location.search);

export const API = (() => {
  const p = params.get('api');
  if (p) return p.replace(/\/+$/, '');
  if (location.protocol === 'file:') return 'http://127.0.0.1:8080';
  return location.origin;
})();
const WS_BASE = API.replace(/^http/, 'ws');
export const TOKEN = params.get('token') || '';

// `path` ("/api/...") as an absolute URL of the API.
export function apiUrl(path) { return API + path; }

// `path` with the token as a query parameter (links and WebSockets carry no
// Authorization header); `sep` is '?' or '&' after an existing query.
export function withToken(path, sep = '?') {
  return TOKEN ? `${path}${sep}token=${encodeURIComponent(TOKEN)}` : path;
}

// `path` ("/ws/...", query included) as a ws:// or wss:// URL of the API.
export function wsUrl(path) { return WS_BASE + path; }

// One JSON request. Resolves to the parsed body (null when empty); rejects
// with Error("STATUS: message") carrying .status for HTTP errors, or
// Error("METHOD PATH: reason") when the server cannot be reached.
export async function api(method, path, body) {
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

// A WebSocket that reconnects with exponential backoff (0.5 s .. 10 s).
// Callbacks: onOpen(), onMessage(MessageEvent), onState('connecting' | 'open'
// | 'retry in N s' | 'closed'); shouldRetry() (async, optional) is asked
// before each retry and closes the socket for good when it answers false.
export class ReconnectingSocket {
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
