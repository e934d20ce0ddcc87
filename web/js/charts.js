// The performance panel's sparklines (uPlot, loaded by index.html as the global
// window.uPlot): FPS, inference ms, CPU, RAM and, when the server reports one,
// GPU, each from the history arrays of one /api/stats document.
// updateCharts() is called by stats.js once per document; initCharts() keeps
// the widths in step with the window.

import { $, el, fmt, vigil } from './dom.js';

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

// Plots the history series of the /api/stats document `s`.
export function updateCharts(s) {
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

export function initCharts() {
  window.addEventListener('resize', () => {
    for (const c of Object.values(charts)) c.plot.setSize({ width: chartWidth(), height: 60 });
  });
}
