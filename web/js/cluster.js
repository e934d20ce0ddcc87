// The cluster panel (GET /api/cluster, on a `vigil run --node` server):
// the alive nodes with their heartbeat age, streams and capacity, and each
// stream with the node that runs it, linked to that node's dashboard.
// Hidden on a server that is not a cluster node (404).

import { api } from './api.js';
import { $, el, fmt } from './dom.js';

function nodeLink(name, url, self) {
  if (self || !url) return el('span', { text: self ? `${name} (this node)` : name });
  return el('a', { href: url + '/', target: '_blank', rel: 'noopener', text: name });
}

function render(c) {
  $('#cluster-sub').textContent = `${c.self} · lease ${c.lease_s} s · fair share ${c.fair_share}` +
    (c.capacity_measured && c.load != null ? ` · capacity ${c.capacity} measured, load ${fmt(c.load, 2)}` : '') +
    (c.connected ? '' : ' · Redis unreachable');
  const urls = {};
  const rows = $('#cluster-nodes tbody');
  rows.replaceChildren();
  for (const n of c.nodes) {
    urls[n.name] = n.advertise_url;
    rows.append(el('tr', {},
      el('td', {}, nodeLink(n.name, n.advertise_url, n.self)),
      el('td', { text: fmt(n.heartbeat_age_s, 1) + ' s' }),
      el('td', { text: `${n.streams.length} / ${n.capacity || '∞'}` })));
  }
  const list = $('#cluster-streams');
  list.replaceChildren();
  for (const s of c.streams) {
    const where = s.node == null ? el('span', { class: 'muted', text: 'waiting for a node' })
      : nodeLink(s.node, s.node_url, s.node === c.self);
    list.append(el('li', {}, el('b', { text: s.id }), ' on ', where));
  }
}

export async function refreshCluster() {
  const panel = $('#cluster-panel');
  try {
    render(await api('GET', '/api/cluster'));
    panel.classList.remove('hidden');
  } catch (e) {
    panel.classList.add('hidden');  // 404: not a cluster node; else the next poll tries again
  }
}
