// The zone and line editor: pick a stream, click points on its canvas (a zone
// closes on double-click, a line takes two clicks), name it, save. Saving or
// deleting PATCHes the stream's whole zones or lines list (the server restarts
// the stream with it). Points are fractions of the frame, rounded to 1e-4.
// The drawing in progress lives in the StreamView (view.draft) so the view
// draws it over the video; `editor.active` is the view being drawn on.

import { api } from './api.js';
import { $, clearError, el, showError, vigil } from './dom.js';
import { refreshStreams, streams } from './streams.js';

export const editor = {
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

// Wires the editor's controls; canvas clicks come through streams.js.
export function initEditor() {
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
}
