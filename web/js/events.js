// The events feed: WS /ws/events (one event, an array, or {events: [...]} per
// message), newest first, at most MAX_EVENTS kept; caption events also set the
// caption line of their stream's card. An event with has_snapshot shows its
// snapshot (GET /api/events/{id}/snapshot.jpg; the recorder writes it just
// after the event, so a missing one is asked for again a few times); one
// with has_clip plays its clip (/api/events/{id}/clip.mp4) in a <video> when
// clicked (ready once post_s of video has passed).

import { ReconnectingSocket, apiUrl, withToken, wsUrl } from './api.js';
import { $, el, fmt, shortId, vigil } from './dom.js';
import { streams } from './streams.js';

const MAX_EVENTS = 100;
const MEDIA_RETRIES = 20;       // a snapshot or clip not written yet: asked again this many times
const MEDIA_RETRY_MS = 1000;

function mediaUrl(ev, file) { return apiUrl(`/api/events/${encodeURIComponent(ev.id)}/${file}`); }

// The snapshot thumbnail, retried while the recorder is still writing it.
function thumbnail(ev) {
  const img = el('img', { class: 'ev-thumb', alt: `snapshot of ${ev.id}` });
  let tries = 0;
  img.addEventListener('error', () => {
    if (++tries > MEDIA_RETRIES) { img.classList.add('ev-thumb-missing'); return; }
    setTimeout(() => { img.src = `${mediaUrl(ev, 'snapshot.jpg')}?try=${tries}`; }, MEDIA_RETRY_MS);
  });
  img.addEventListener('load', () => { vigil.snapshotsShown = (vigil.snapshotsShown || 0) + 1; });
  img.src = mediaUrl(ev, 'snapshot.jpg');
  return img;
}

// Click: a player of the event's clip below the line (click again: closed).
function toggleClip(li, ev) {
  const open = li.querySelector('video');
  if (open) { open.remove(); return; }
  const video = el('video', { class: 'ev-clip', controls: '', autoplay: '', muted: '', playsinline: '' });
  video.muted = true;
  video.addEventListener('click', (e) => e.stopPropagation());  // the controls, not the line
  let tries = 0;
  video.addEventListener('error', () => {
    if (++tries > MEDIA_RETRIES) return;
    setTimeout(() => { video.src = `${mediaUrl(ev, 'clip.mp4')}?try=${tries}`; }, MEDIA_RETRY_MS);
  });
  video.src = mediaUrl(ev, 'clip.mp4');
  li.append(video);
}

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
  if (ev.id && ev.has_snapshot) li.append(thumbnail(ev));
  if (ev.id && ev.has_clip) {
    li.classList.add('ev-has-clip');
    li.title = `${li.title}\n(click: play the clip)`;
    li.addEventListener('click', () => toggleClip(li, ev));
  }
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
