'use strict';

// Functions passed to page.evaluate / waitForFunction run in the page.
/* global document, window */

// The dashboard page in a real browser: Debian's headless Chromium, driven by playwright-core.
// CI installs Chromium (.ci/system-deps); without it this test fails and says how to install it.
// Screenshots go to __test__/output/ (gitignored).

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { chromium } = require('playwright-core');
const { RealTimeDashboard } = require('../lib/dashboard');

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = path.join(__dirname, 'output');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// A dashboard with a small synthetic workload so that every figure moves.
async function openDashboard(port = 0) {
  const d = new RealTimeDashboard({ port, host: '127.0.0.1', interval: 200 });
  await once(d, 'listening');
  let depth = 10;
  const load = setInterval(() => {
    d.recordRequest(5 + Math.random() ** 3 * 200);
    depth = Math.max(0, depth + (Math.random() - 0.5) * 4);
    d.record('queue.depth', depth);
  }, 10);
  d.once('close', () => clearInterval(load));
  return d;
}

// Page errors and console errors, collected so a test can assert there were none.
function watch(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
  return problems;
}

const metric = (page, name) => page.locator(`[data-metric="${name}"]`).first().textContent();

describe('dashboard page in headless Chromium', function () {
  this.timeout(60000);
  let context;
  let profile;
  let dashboard;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: this test needs Debian's chromium package (apt-get update && apt-get install -y chromium; .ci/system-deps installs it on CI)`,
      );
    }
    fs.mkdirSync(OUTPUT, { recursive: true });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ferrocast-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
  });

  after(async function () {
    if (context) await context.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (dashboard) await dashboard.close();
    dashboard = undefined;
  });

  it('shows live values that change and charts drawn by uPlot, without errors', async function () {
    dashboard = await openDashboard();
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`http://127.0.0.1:${dashboard.port}/`);
    await page.waitForSelector('#status[data-state="live"]');
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-metric="totalRequests"]').textContent));
    const before = await metric(page, 'totalRequests');
    await page.waitForFunction(
      (b) => document.querySelector('[data-metric="totalRequests"]').textContent !== b,
      before,
    );
    assert.notStrictEqual(await metric(page, 'totalRequests'), before);
    assert.strictEqual(await metric(page, 'activeUsers'), '1');
    assert.match(await metric(page, 'responseTime.p50'), /^\d/);
    assert.match(await metric(page, 'memory.rss'), /^\d+(\.\d)? MB$/);
    assert.strictEqual(await page.locator('#status-text').textContent(), 'Live');

    // Six charts plus one per app metric, each a uPlot canvas with data drawn.
    await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length >= 7);
    await page.waitForSelector('#app-table tr[data-app="queue.depth"]');
    // Let the charts fill a little before the picture.
    await page.waitForTimeout(2500);
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-desktop.png'), fullPage: true });
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('fits a phone screen', async function () {
    dashboard = await openDashboard();
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const problems = watch(page);
    await page.goto(`http://127.0.0.1:${dashboard.port}/`);
    await page.waitForSelector('#status[data-state="live"]');
    await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length >= 7);
    await page.waitForTimeout(1500);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
    const chartWidth = await page.evaluate(() => document.querySelector('.uplot').getBoundingClientRect().width);
    assert.ok(chartWidth <= 390 && chartWidth > 250, `chart width ${chartWidth}`);
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-phone.png'), fullPage: false });
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('reconnects by itself when the server comes back', async function () {
    dashboard = await openDashboard();
    const port = dashboard.port;
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('#status[data-state="live"]');
    await dashboard.close();
    dashboard = undefined;
    await page.waitForSelector('#status[data-state="reconnecting"]');
    assert.match(await page.locator('#status-text').textContent(), /Disconnected · retrying in \d+ s/);
    dashboard = await openDashboard(port);
    dashboard.record('server.generation', 2); // only the new server has it
    await page.waitForSelector('#status[data-state="live"]', { timeout: 20000 });
    await page.waitForSelector('#app-table tr[data-app="server.generation"]');
    await page.close();
  });
});
