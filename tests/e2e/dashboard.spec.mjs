// End-to-end test of the Vigil web dashboard (web/), driven by playwright-core
// with Debian's chromium. Usually run by tests/e2e/run_dashboard_test.sh.
//
// Env:
//   VIGIL_URL         base URL of a running vigil, e.g. http://127.0.0.1:18080 (required)
//   VIGIL_TEST_VIDEO  a video file inside the server's media dir, added through the form (required)
//   VIGIL_UPLOAD_VIDEO a video file outside it, uploaded with the Jobs tab's Upload button (required)
//   VIGIL_SCREENSHOT  where to keep a screenshot (default /tmp/vigil-dashboard.png)
//   VIGIL_PAGE_URL    page to open (default VIGIL_URL + "/"), e.g. a dev server's
//                     http://127.0.0.1:8000/index.html?api=http://127.0.0.1:18080
//   CHROMIUM          browser binary (default /usr/bin/chromium)
// Exit code 0 on success; 1 with "FAIL: ..." on stderr otherwise.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const require = createRequire(path.join(ROOT, 'third_party/web/package.json'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error(`FAIL: cannot load playwright-core from third_party/web (run scripts/web_setup.sh): ${e.message}`);
  process.exit(1);
}

const BASE = (process.env.VIGIL_URL || '').replace(/\/+$/, '');
const VIDEO = process.env.VIGIL_TEST_VIDEO || '';
const UPLOAD = process.env.VIGIL_UPLOAD_VIDEO || '';
const SHOT = process.env.VIGIL_SCREENSHOT || '/tmp/vigil-dashboard.png';
const PAGE_URL = process.env.VIGIL_PAGE_URL || `${BASE}/`;
const EXE = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE || !VIDEO || !UPLOAD) {
  console.error('FAIL: set VIGIL_URL, VIGIL_TEST_VIDEO and VIGIL_UPLOAD_VIDEO');
  process.exit(1);
}

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
class TestFailure extends Error {}
function fail(msg) { throw new TestFailure(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or timeoutMs passes.
async function waitFor(what, fn, timeoutMs, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); } catch (e) { if (e instanceof TestFailure) throw e; last = e; }
    if (last && !(last instanceof Error)) return last;
    await sleep(intervalMs);
  }
  fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
}

async function apiGet(p) {
  const r = await fetch(BASE + p);
  if (!r.ok) throw new Error(`GET ${p}: ${r.status}`);
  return r.json();
}

mkdirSync(path.dirname(path.resolve(SHOT)), { recursive: true });
const ADDED_ID = `e2e-${process.pid}`;
const userDataDir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-chromium-'));
let context;
let page;
const pageErrors = [];
const consoleErrors = [];

// Fingerprint of a canvas's pixels (sampled) computed in the page.
async function canvasFingerprint(sel) {
  return page.evaluate((s) => {
    const c = document.querySelector(s);
    if (!c || !c.width || !c.height) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0, sum = 0;
    for (let i = 0; i < d.length; i += 4 * 7) { h = (h * 31 + d[i] + d[i + 1] * 3 + d[i + 2] * 7) >>> 0; sum += d[i]; }
    return { h, mean: sum / (d.length / 28), w: c.width, h2: c.height };
  }, sel);
}

async function main() {
  // Sanity check of the server.
  const streams0 = await apiGet('/api/streams');
  if (!streams0.streams?.length) fail('the server has no stream to show');
  const firstId = streams0.streams[0].id;
  log(`server has streams: ${streams0.streams.map((s) => s.id).join(', ')}`);

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: EXE,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1500, height: 1000 },
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });

  log(`opening ${PAGE_URL}`);
  const resp = await page.goto(PAGE_URL, { waitUntil: 'load', timeout: 20000 });
  if (!resp || !resp.ok()) fail(`GET ${PAGE_URL} answered ${resp ? resp.status() : 'nothing'}`);
  await waitFor('the dashboard script (window.__vigil)', () => page.evaluate(() => !!window.__vigil), 10000);
  if (pageErrors.length) fail(`page errors: ${pageErrors.join(' | ')}`);
  // Both style sheets came from /static/ and apply (without them the layout,
  // and every click on a canvas below, is somewhere else).
  const sheets = await page.evaluate(() => [...document.styleSheets].map((s) => s.href || ''));
  for (const want of ['/static/style.css', '/static/vendor/uPlot.min.css'])
    if (!sheets.some((h) => h.endsWith(want))) fail(`style sheet ${want} not applied (sheets: ${sheets.join(', ')})`);
  const topbar = await page.evaluate(() => getComputedStyle(document.querySelector('.topbar')).display);
  if (topbar !== 'flex') fail(`style.css rules not applied: .topbar is display ${topbar}, not flex`);
  log('style sheets applied from /static/');

  // 1. A live stream canvas whose pixels change, with boxes drawn on it.
  const sel = `canvas.stream-canvas[data-stream-id="${firstId}"]`;
  await waitFor(`a canvas for stream ${firstId}`, () => page.$(sel), 10000);
  await waitFor(`video frames drawn on ${firstId} (WS /ws/streams/${firstId}?video=1)`,
    () => page.evaluate((id) => (window.__vigil.streams[id]?.framesDrawn || 0) > 2, firstId), 30000);
  let changed = false;
  for (let i = 0; i < 8 && !changed; i++) {
    const a = await canvasFingerprint(sel);
    await sleep(1000);
    const b = await canvasFingerprint(sel);
    changed = a && b && a.h !== b.h;
  }
  if (!changed) fail(`the pixels of ${sel} did not change over time`);
  log('stream canvas pixels change over time');
  const boxes = await waitFor('boxes drawn on the stream canvas (window.__vigil.boxesDrawn > 0)',
    () => page.evaluate((id) => window.__vigil.streams[id]?.boxesDrawn || 0, firstId), 40000);
  log(`boxes drawn: ${boxes}`);

  // 2. Sparklines: a uPlot canvas exists and its data grows.
  await waitFor('a uPlot sparkline canvas', () => page.$('#charts .uplot canvas'), 10000);
  const len1 = await waitFor('sparkline data', () => page.evaluate(() => window.__vigil.chartDataLength), 10000);
  const upd1 = await page.evaluate(() => window.__vigil.statsUpdates);
  await waitFor('the sparkline data to grow', async () => {
    const [len, upd] = await page.evaluate(() => [window.__vigil.chartDataLength, window.__vigil.statsUpdates]);
    // History is capped at 120 samples: once full it still has to be refreshed.
    return len > len1 || (len1 >= 120 && upd > upd1 + 1);
  }, 8000);
  const len2 = await page.evaluate(() => window.__vigil.chartDataLength);
  log(`sparkline data ${len1} -> ${len2} points`);
  const stageRows = await page.$$eval('#stages tbody tr', (rs) => rs.length);
  if (!stageRows) fail('the per-stage table is empty');
  const bottleneck = await page.$$eval('#stages tr.bottleneck', (rs) => rs.map((r) => r.dataset.stage));
  log(`stage rows: ${stageRows}, bottleneck highlighted: ${bottleneck.join(',') || 'none'}`);
  const fpsText = await page.textContent(`.card[data-stream-id="${firstId}"] .stream-stats`);
  if (!/fps/.test(fpsText || '')) fail(`no per-stream stats on the card of ${firstId}`);

  // 3. Events feed (WS /ws/events): at least one event shown.
  const nEvents = await waitFor('an event in the feed (WS /ws/events)',
    () => page.$$eval('#events li', (l) => l.length), 30000);
  log(`events shown: ${nEvents}`);
  // Snapshots (record.snapshots in run_dashboard_test.sh): a thumbnail that loaded.
  const thumbWidth = await waitFor('an event snapshot thumbnail that loaded (naturalWidth > 0)',
    () => page.$$eval('#events img.ev-thumb',
      (imgs) => Math.max(0, ...imgs.map((i) => (i.complete ? i.naturalWidth : 0)))), 30000);
  log(`snapshot thumbnail loaded: ${thumbWidth} px wide`);
  const caption = await waitFor('a scene caption under the stream', async () => {
    const t = await page.textContent(`article[data-stream-id="${firstId}"] .stream-caption`);
    return t && t.trim().length > 3 && t.trim();
  }, 20000);
  log(`caption shown: ${caption}`);

  // 4. Zone and line counts are shown for the stream's configured zones/lines.
  const cfg = streams0.streams[0].config || {};
  if ((cfg.zones || []).length) {
    await waitFor('zone occupancy on the card', () => page.$(`.card[data-stream-id="${firstId}"] .count.zone`), 5000);
  }
  if ((cfg.lines || []).length) {
    await waitFor('line counts on the card', () => page.$(`.card[data-stream-id="${firstId}"] .count.line`), 5000);
  }

  // 5. Add a stream through the form; it shows up (and plays), errors are shown.
  await page.fill('#add-id', ADDED_ID);
  await page.fill('#add-url', VIDEO);
  await page.fill('#add-every', '2');
  await page.click('#add-submit');
  const addedSel = `.card[data-stream-id="${ADDED_ID}"]`;
  await waitFor(`the added stream ${ADDED_ID} in the grid`, async () => {
    const err = await page.evaluate(() => window.__vigil.lastError);
    if (err) fail(`adding the stream showed an error: ${err}`);
    return page.$(addedSel);
  }, 10000);
  const listed = await apiGet('/api/streams');
  if (!listed.streams.some((s) => s.id === ADDED_ID)) fail(`${ADDED_ID} is not in GET /api/streams`);
  log(`added stream ${ADDED_ID}`);
  await waitFor(`frames on the added stream ${ADDED_ID}`,
    () => page.evaluate((id) => (window.__vigil.streams[id]?.framesDrawn || 0) > 0, ADDED_ID), 20000);
  // Duplicate id: the server's {"error"} is shown.
  await page.fill('#add-id', ADDED_ID);
  await page.fill('#add-url', VIDEO);
  await page.click('#add-submit');
  await waitFor('the error message for a duplicate id', async () => {
    const visible = await page.isVisible('#error');
    const text = await page.textContent('#error-text');
    return visible && /409/.test(text || '') && text;
  }, 5000);
  log(`duplicate id error shown: ${await page.textContent('#error-text')}`);
  await page.click('#error-close');
  await sleep(1200);   // one more stats refresh for the picture
  await page.screenshot({ path: SHOT, fullPage: true });
  log(`screenshot: ${SHOT}`);

  // 6. Zone editor: draw a line on the added stream and save it with PATCH.
  await page.selectOption('#ed-stream', ADDED_ID);
  await page.selectOption('#ed-mode', 'line');
  await page.fill('#ed-name', 'e2e-line');
  await page.click('#ed-start');
  const cv = await page.$(`canvas.stream-canvas[data-stream-id="${ADDED_ID}"]`);
  const bb = await cv.boundingBox();
  await page.mouse.click(bb.x + bb.width * 0.2, bb.y + bb.height * 0.5);
  await page.mouse.click(bb.x + bb.width * 0.8, bb.y + bb.height * 0.5);
  await page.click('#ed-save');
  const line = await waitFor('the drawn line in the stream config (PATCH)', async () => {
    const s = await apiGet(`/api/streams/${ADDED_ID}`);
    return (s.config.lines || []).find((l) => l.name === 'e2e-line');
  }, 10000);
  if (Math.abs(line.a[0] - 0.2) > 0.02 || Math.abs(line.b[0] - 0.8) > 0.02 || Math.abs(line.a[1] - 0.5) > 0.02) {
    fail(`the saved line is not where it was drawn: ${JSON.stringify(line)}`);
  }
  log(`line saved: ${JSON.stringify(line)}`);
  // ... and a zone: three clicks, a double-click on the last one closes it.
  // The server has the line; the page may not have its PATCH answer yet, and
  // handling it clears the name field: wait for the editor to be idle first.
  await waitFor('the editor idle after saving the line (Start enabled, name cleared)', () => page.evaluate(() =>
    !document.querySelector('#ed-start').disabled && document.querySelector('#ed-name').value === ''), 10000);
  await page.selectOption('#ed-mode', 'zone');
  await page.fill('#ed-name', 'e2e-zone');
  await page.click('#ed-start');
  // The PATCH restarted the stream: look the canvas up again.
  const bb2 = await waitFor('the stream canvas after the restart', async () => {
    const c = await page.$(`canvas.stream-canvas[data-stream-id="${ADDED_ID}"]`);
    return c && c.boundingBox();
  }, 10000);
  await page.mouse.click(bb2.x + bb2.width * 0.1, bb2.y + bb2.height * 0.1);
  await page.mouse.click(bb2.x + bb2.width * 0.4, bb2.y + bb2.height * 0.1);
  await page.mouse.dblclick(bb2.x + bb2.width * 0.4, bb2.y + bb2.height * 0.4);
  await page.click('#ed-save');
  const zone = await waitFor('the drawn zone in the stream config (PATCH)', async () => {
    const s = await apiGet(`/api/streams/${ADDED_ID}`);
    return (s.config.zones || []).find((z) => z.name === 'e2e-zone') && s.config;
  }, 10000);
  const z = zone.zones.find((q) => q.name === 'e2e-zone');
  if (z.polygon.length !== 3) fail(`the saved zone has ${z.polygon.length} points, expected 3: ${JSON.stringify(z)}`);
  if (!(zone.lines || []).some((l) => l.name === 'e2e-line')) fail('saving the zone lost the line saved before');
  log(`zone saved: ${JSON.stringify(z.polygon)}`);

  // 7. Remove the added stream with its button.
  await page.click(`${addedSel} button[data-remove]`);
  await waitFor(`${ADDED_ID} removed from the grid`, async () => !(await page.$(addedSel)), 10000);
  const after = await apiGet('/api/streams');
  if (after.streams.some((s) => s.id === ADDED_ID)) fail(`${ADDED_ID} is still in GET /api/streams`);
  log(`removed stream ${ADDED_ID}`);

  // 8. Jobs tab: a bad path is refused with the server's message; an offline
  // job on a file of the media directory runs to done with a progress bar,
  // chunk cells and a report link.
  await page.click('#tab-jobs');
  await waitFor('the jobs view', async () => page.isVisible('#job-form'), 5000);
  if (await page.isVisible('#grid')) fail('the live grid is still visible on the Jobs tab');
  await page.fill('#job-path', '/etc/hostname');
  await page.click('#job-submit');
  await waitFor('error for a path outside the media dir', async () => {
    const text = await page.textContent('#error-text');
    return (await page.isVisible('#error')) && /400/.test(text || '') && text;
  }, 10000);
  await page.fill('#job-path', path.basename(VIDEO));
  await page.fill('#job-fps', '1');
  await page.fill('#job-chunk', '5');
  await page.click('#job-submit');
  const row = 'table.jobs tbody tr[data-job]';
  await waitFor('a job row', async () => page.$(row), 10000);
  const done = await waitFor('the job done with a report link', async () => {
    const state = await page.textContent(`${row} td:nth-child(3)`);
    const link = await page.$(`${row} a.report-link`);
    return /^done/.test(state || '') && link && state;
  }, 90000);
  const bar = await page.$eval(`${row} progress`, (p) => p.value);
  if (bar < 0.999) fail(`the finished job's progress bar shows ${bar}`);
  const cells = await page.$$eval(`${row} .chunk-cells i.done`, (c) => c.length);
  if (cells !== 4) fail(`expected 4 done chunk cells (20 s in 5 s chunks), got ${cells}`);
  const href = await page.$eval(`${row} a.report-link`, (a) => a.href);
  const report = await fetch(href);
  const html = await report.text();
  if (report.status !== 200 || !/<svg/.test(html)) fail(`report ${href}: ${report.status}`);
  const messages = await page.evaluate(() => window.__vigil.jobs.messages);
  if (messages < 1) fail('no job progress arrived over the WebSocket');
  log(`job ${done}; progress messages over WebSocket: ${messages}; report ${html.length} bytes`);
  await page.screenshot({ path: SHOT.replace(/(\.png)?$/, '-jobs.png'), fullPage: true });

  // 9. Upload: the Upload button's file goes to POST /api/uploads (into the
  // media dir, byte for byte), then appears as a queued job.
  const uploadName = path.basename(UPLOAD);
  const stored = path.join(path.dirname(VIDEO), uploadName);
  if (existsSync(stored)) fail(`${stored} exists before the upload`);
  await page.setInputFiles('#upload-file', UPLOAD);
  await waitFor('the upload queued as a job', async () => {
    const status = await page.textContent('#upload-status');
    return /job queued/.test(status || '') && status;
  }, 30000);
  const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
  if (!existsSync(stored) || sha(stored) !== sha(UPLOAD)) fail(`the uploaded ${stored} differs from ${UPLOAD}`);
  await waitFor(`a job row for ${uploadName}`, async () => {
    const names = await page.$$eval('table.jobs tbody tr[data-job] td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    return names.includes(uploadName) && names;
  }, 10000);
  const jobsNow = await apiGet('/api/jobs');
  if (!jobsNow.jobs.some((j) => j.video === stored)) fail(`no job for ${stored} in GET /api/jobs`);
  log(`uploaded ${uploadName} (${readFileSync(UPLOAD).length} bytes) and queued it`);
  await page.click('#tab-live');

  if (pageErrors.length) fail(`page errors: ${pageErrors.join(' | ')}`);
  // The dashboard runs under its Content-Security-Policy: nothing it needs may be blocked.
  const blocked = consoleErrors.filter((t) => /Content Security Policy/i.test(t));
  if (blocked.length) fail(`blocked by the CSP: ${blocked.join(' | ')}`);
  log('no Content-Security-Policy violations');
}

let rc = 0;
try {
  await main();
  log('PASS');
} catch (e) {
  rc = 1;
  console.error(`FAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(' | ')}`);
  if (consoleErrors.length) console.error(`console errors (first 10): ${consoleErrors.slice(0, 10).join(' | ')}`);
  if (page) {
    try {
      mkdirSync(path.dirname(SHOT), { recursive: true });
      await page.screenshot({ path: SHOT, fullPage: true });
      console.error(`screenshot of the failure: ${SHOT}`);
    } catch { /* ignore */ }
  }
  // Leave the server as found.
  try { await fetch(`${BASE}/api/streams/${ADDED_ID}`, { method: 'DELETE' }); } catch { /* ignore */ }
} finally {
  try { await context?.close(); } catch { /* ignore */ }
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(rc);
