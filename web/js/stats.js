// The header's KPIs, the stages table and the analysis latency line, from
// GET /api/stats (polled by main.js every second; one request at a time).
// Each document also updates the stream cards (StreamView.updateStatus), the
// sparklines (charts.js), and asks for a new listing when the stats and the
// grid disagree on which streams exist.

import { api } from './api.js';
import { updateCharts } from './charts.js';
import { $, el, fmt, fmtDuration, setConn, vigil } from './dom.js';
import { refreshStreams, removalEpoch, streams } from './streams.js';

function updateKpis(s) {
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
}

function updateStages(s) {
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

function updatePerf(s) {
  updateKpis(s);
  updateCharts(s);
  updateStages(s);
}

let statsBusy = false;
export async function pollStats() {
  if (statsBusy) return;
  statsBusy = true;
  try {
    const epoch = removalEpoch();
    const s = await api('GET', '/api/stats');
    setConn(true);
    if (epoch !== removalEpoch()) return;
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
