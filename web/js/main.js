// Vigil dashboard: plain ES modules, no framework, no build step.
// Data: GET /api/streams, GET /api/stats (every second), WS /ws/streams/{id}?video=1
// (binary JPEG frames + JSON text messages), WS /ws/events, /api/jobs and
// WS /ws/jobs/{id} for the Jobs tab. The modules, each wired from here:
//   api.js          server URLs, token, JSON requests, reconnecting WebSocket
//   dom.js          DOM and formatting helpers, error banner, window.__vigil
//   stream_view.js  one stream's card: video, tracks, zones, lines, figures
//   streams.js      the grid of stream views, add and remove streams
//   stats.js        /api/stats poll: KPIs, stages table, stream figures
//   charts.js       performance sparklines (uPlot)
//   events.js       the events feed and captions
//   editor.js       the zone and line editor
//   jobs.js         offline analysis jobs
//   cluster.js      the cluster panel (nodes, who runs which stream)
// This module owns the tabs and the timers.

import { refreshCluster } from './cluster.js';
import { $, clearError } from './dom.js';
import { editor, initEditor } from './editor.js';
import { startEvents } from './events.js';
import { initCharts } from './charts.js';
import { initJobs, jobs, refreshJobs } from './jobs.js';
import { pollStats } from './stats.js';
import { initStreams, refreshStreams } from './streams.js';

const STATS_MS = 1000;
const STREAMS_MS = 5000;
const JOBS_MS = 2000;

function showTab(name) {
  const live = name === 'live';
  $('#live-view').classList.toggle('hidden', !live);
  $('#jobs-view').classList.toggle('hidden', live);
  $('#tab-live').classList.toggle('active', live);
  $('#tab-jobs').classList.toggle('active', !live);
  $('#tab-live').setAttribute('aria-selected', String(live));
  $('#tab-jobs').setAttribute('aria-selected', String(!live));
  jobs.visible = !live;
  if (!live) refreshJobs();
}

$('#error-close').addEventListener('click', clearError);
initStreams({
  onChanged: () => editor.streamsChanged(),
  onClick: (v, e) => editor.click(v, e),
  onDblClick: (v, e) => editor.dblclick(v, e),
});
initCharts();
startEvents();
initEditor();
$('#tab-live').addEventListener('click', () => showTab('live'));
$('#tab-jobs').addEventListener('click', () => showTab('jobs'));
initJobs();

refreshStreams();
pollStats();
setInterval(pollStats, STATS_MS);
setInterval(refreshStreams, STREAMS_MS);
refreshCluster();
setInterval(refreshCluster, STREAMS_MS);
refreshJobs();
setInterval(() => { if (jobs.visible) refreshJobs(); }, JOBS_MS);
