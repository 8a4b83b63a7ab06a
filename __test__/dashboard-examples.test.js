'use strict';

// Issue 7's examples run as a user runs them: `npm start`, and `node examples/<name>.js`.

const assert = require('node:assert');
const http = require('node:http');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const WebSocket = require('ws');
const { ROOT, runFile } = require('./helpers');

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

// Starts a long-running command in its own process group; resolves once stdout matches `ready`.
function start(command, args, { env = {}, ready, limit = 15000 }) {
  const fullEnv = { ...process.env, ...env };
  for (const key of Object.keys(fullEnv)) if (fullEnv[key] === undefined) delete fullEnv[key];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: fullEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { child, stdout: '', stderr: '', exit: once(child, 'exit') };
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => (run.stderr += d));
  const killer = setTimeout(() => kill(run, 'SIGKILL'), limit);
  run.exit.then(() => clearTimeout(killer));
  run.ready = new Promise((resolve, reject) => {
    const check = () => {
      const m = ready.exec(run.stdout);
      if (m) {
        child.stdout.off('data', check);
        resolve(m);
      }
    };
    child.stdout.on('data', check);
    run.exit.then(([code, signal]) => reject(new Error(`exited (${code ?? signal}) before it was ready:\n${run.stdout}\n${run.stderr}`)));
  });
  return run;
}

function kill(run, signal) {
  try {
    process.kill(-run.child.pid, signal);
  } catch {}
}

// Resolves once no process of the group is left, or rejects after `ms`.
async function groupGone(run, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-run.child.pid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') return;
      throw err;
    }
    if (Date.now() > until) throw new Error(`processes still running ${ms} ms after the signal:\n${run.stdout}\n${run.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Connects to the dashboard and resolves with the first metrics message `pick` accepts.
function metricsWhere(url, pick, ms = 15000) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + 'ws');
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no matching metrics message in time'));
    }, ms);
    const seen = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type !== 'metrics') return;
      seen.push(m);
      if (pick(m, seen)) {
        clearTimeout(timer);
        ws.close();
        resolve(m);
      }
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('examples', function () {
  this.timeout(30000);

  describe('npm start', function () {
    it('is `node examples/dashboard.js`', function () {
      assert.strictEqual(require('../package.json').scripts.start, 'node examples/dashboard.js');
    });

    it('serves the page and the chart library, sends moving metrics, and stops on Ctrl+C (SIGINT)', async function () {
      const run = start('npm', ['start'], {
        env: { PORT: '0', HOST: '127.0.0.1' },
        ready: /Dashboard running at (http:\/\/127\.0\.0\.1:\d+\/)/,
      });
      try {
        const [, url] = await run.ready;
        const page = await get(url);
        assert.strictEqual(page.status, 200);
        assert.match(page.body.toString(), /uPlot/);
        const lib = await get(url + 'vendor/uPlot.iife.min.js');
        assert.strictEqual(lib.status, 200);
        assert.ok(lib.body.length > 10000);
        // The demo workload moves the figures: requests, demo users, messages, app metrics.
        const m = await metricsWhere(url, (x, seen) => seen.length >= 2 && x.totalRequests > seen[0].totalRequests && x.activeUsers >= 2);
        assert.ok(m.responseTime.count > 0);
        assert.ok(m.messages.in > 0);
        assert.ok(m.app['queue.depth'] && m.app['orders.total'] && m.app['cache.hitRatio']);
      } finally {
        kill(run, 'SIGINT'); // what a terminal's Ctrl+C does: the whole process group
      }
      await groupGone(run);
      assert.match(run.stdout, /SIGINT: stopping\nstopped\n/);
      assert.strictEqual(run.stderr.replace(/npm warn.*\n/gi, ''), '');
    });

    it('exits with code 0 on SIGTERM', async function () {
      const [cmd, ...args] = require('../package.json').scripts.start.split(' ');
      assert.strictEqual(cmd, 'node');
      const run = start(process.execPath, args, {
        env: { PORT: '0', HOST: '127.0.0.1' },
        ready: /Dashboard running at (http:\/\/\S+)/,
      });
      const [, url] = await run.ready;
      assert.strictEqual((await get(url)).status, 200);
      run.child.kill('SIGTERM');
      const [code, signal] = await run.exit;
      assert.strictEqual(signal, null, run.stderr);
      assert.strictEqual(code, 0, run.stderr);
      assert.match(run.stdout, /SIGTERM: stopping\nstopped\n/);
    });

    it('listens on port 3000 without PORT', async function () {
      if (!(await portIsFree(3000))) throw new Error('port 3000 is taken on 127.0.0.1: free it to run this test');
      const run = start(process.execPath, ['examples/dashboard.js'], {
        env: { HOST: '127.0.0.1', PORT: undefined },
        ready: /Dashboard running at (http:\/\/\S+)/,
      });
      const [, url] = await run.ready;
      assert.strictEqual(url, 'http://127.0.0.1:3000/');
      run.child.kill('SIGTERM');
      const [code] = await run.exit;
      assert.strictEqual(code, 0, run.stderr);
    });
  });

  describe('the seed\'s examples against ferrocast', function () {
    it('examples/circuit-breaker.js', async function () {
      const r = await runFile('examples/circuit-breaker.js', { limit: 10000 });
      assert.strictEqual(r.code, 0, r.stderr);
      for (const line of [
        /event 1 failed: service down \(event 1\)/,
        /circuit OPEN/,
        /event 4 failed: Circuit breaker is OPEN/,
        /circuit HALF_OPEN/,
        /circuit CLOSED\n\s+processed event 6/,
        /reason: 'ERR_CIRCUIT_TIMEOUT'/,
        /reason: 'ERR_CIRCUIT_OPEN'/,
        /price circuit CLOSED\n\s+\{ sku: 'A-3', price: 42 \}/,
      ]) {
        assert.match(r.stdout, line);
      }
    });

    it('examples/debugging.js', async function () {
      const r = await runFile('examples/debugging.js', { limit: 10000 });
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\[DEBUG\] Event "importantEvent" emitted with args: \[ \{ id: 1 \} \]$/m);
      assert.match(r.stdout, /Event listener count:\n - importantEvent: 1\n - tick: \d/);
      assert.match(r.stderr, /possible listener leak: "tick" listeners grew on 3 checks in a row/);
      assert.match(r.stdout, /emits per event: \{\n\s+importantEvent: \{ count: 1, rate: [\d.]+ \},\n\s+tick: \{ count: 5, rate: [\d.]+ \}/);
    });

    it('examples/seed-dashboard.js', async function () {
      if (!(await portIsFree(3000))) throw new Error('port 3000 is taken on 127.0.0.1: free it to run this test');
      const run = start(process.execPath, ['examples/seed-dashboard.js'], { ready: /Dashboard running on port 3000/ });
      try {
        await run.ready;
        assert.strictEqual((await get('http://127.0.0.1:3000/')).status, 200);
        const m = await metricsWhere('http://127.0.0.1:3000/', () => true);
        assert.strictEqual(m.activeUsers, 1);
      } finally {
        run.child.kill('SIGTERM');
      }
      const [, signal] = await run.exit;
      assert.strictEqual(signal, 'SIGTERM');
    });
  });
});
