// The events feed: WS /ws/events (one event, an array, or {events: [...]} per
// message), newest first, at most MAX_EVENTS kept; caption events also set the
// caption line of their stream's card.

import { ReconnectingSocket, withToken, wsUrl } from './api.js';
import { $, el, fmt, shortId, vigil } from './dom.js';
import { streams } from './streams.js';

const MAX_EVENTS = 100;

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
  const list = $('#events');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

// Opens the events socket (reconnecting for the page's lifetime).
export function startEvents() {
  new ReconnectingSocket(wsUrl(withToken('/ws/events')), {
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
}
