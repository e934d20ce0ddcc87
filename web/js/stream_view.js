// One stream's card in the grid: a canvas with the video (binary JPEG frames
// from WS /ws/streams/{id}?video=1), the tracks of the latest result message
// (JSON text messages on the same socket), the configured zones and lines with
// their counts, the /api/stats figures and the latest caption.
// Owned by streams.js (one view per stream id); the view does not know the
// other modules: `hooks` = {grid (element the card goes into), onRemove(id)
// (the Remove button), onToggle(id, enable) (the Enable / Disable button:
// PATCH enabled), onGone(id) (the server no longer has the stream),
// onClick(view, event), onDblClick(view, event) (canvas clicks, for the editor)}.

import { ReconnectingSocket, api, withToken, wsUrl } from './api.js';
import { colorFor, el, fmt, shortId, vigil } from './dom.js';

function toPixels(pt, w, h, normalized) {
  return normalized ? [pt[0] * w, pt[1] * h] : [pt[0], pt[1]];
}

// Zones and lines in the config are fractions of the frame, or pixels when any
// value is above 1 (unless `normalized` says otherwise), as docs/config.md says.
function isNormalized(shape, pts) {
  if (typeof shape.normalized === 'boolean') return shape.normalized;
  return pts.every((p) => p[0] <= 1 && p[1] <= 1);
}

export class StreamView {
  constructor(entry, hooks) {
    this.hooks = hooks;
    this.id = entry.id;
    this.config = entry.config || {};
    this.status = entry.status || {};
    this.state = entry.state;  // 'up' | 'down' | 'ended' | 'disabled'
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
    if (this.state === 'disabled') {
      // Kept, not run: no video to connect to.
      this.setBadge('disabled', 'wait');
      this.drawPlaceholder('disabled');
    } else {
      this.connect();
    }
  }

  build() {
    this.canvas = el('canvas', { class: 'stream-canvas', width: 640, height: 360, 'data-stream-id': this.id });
    this.stateEl = el('span', { class: 'badge', text: 'connecting' });
    this.statsEl = el('div', { class: 'stream-stats' });
    this.countsEl = el('div', { class: 'stream-counts' });
    this.captionEl = el('p', { class: 'stream-caption muted', text: '' });
    const remove = el('button', {
      type: 'button', class: 'remove', title: `remove stream ${this.id}`, 'data-remove': this.id,
      text: 'Remove', onclick: () => this.hooks.onRemove(this.id),
    });
    const disabled = this.state === 'disabled';
    const toggle = el('button', {
      type: 'button', class: 'remove', 'data-toggle': this.id,
      title: disabled ? `run stream ${this.id} again` : `stop stream ${this.id}, keeping its settings`,
      text: disabled ? 'Enable' : 'Disable', onclick: () => this.hooks.onToggle(this.id, disabled),
    });
    this.card = el('article', { class: 'card', 'data-stream-id': this.id },
      el('header', { class: 'card-head' },
        el('span', { class: 'stream-id', text: this.id }), this.stateEl, toggle, remove),
      el('div', { class: 'canvas-wrap' }, this.canvas),
      this.statsEl, this.countsEl, this.captionEl);
    this.canvas.addEventListener('click', (e) => this.hooks.onClick(this, e));
    this.canvas.addEventListener('dblclick', (e) => this.hooks.onDblClick(this, e));
    this.hooks.grid.append(this.card);
    this.drawPlaceholder('connecting…');
  }

  connect() {
    const url = wsUrl(withToken(`/ws/streams/${encodeURIComponent(this.id)}?video=1`, '&'));
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
        this.hooks.onGone(this.id);
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
