'use strict';

const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { once } = require('node:events');
const { execFile } = require('node:child_process');
const WebSocket = require('ws');
const { RealTimeDashboard, broadcast } = require('../lib/dashboard');
const { ROOT, runNode } = require('./helpers');

// A dashboard on 127.0.0.1, any port, resolved once listening.
async function open(options = {}) {
  const d = new RealTimeDashboard({ port: 0, host: '127.0.0.1', interval: 50, ...options });
  await once(d, 'listening');
  return d;
}

function get(port, pathname, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Connects a client and collects the messages it gets.
async function client(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const messages = [];
  ws.on('message', (m) => messages.push(JSON.parse(m)));
  await once(ws, 'open');
  return { ws, messages };
}

// Resolves with the first message `pick` accepts.
function next(c, pick = (m) => m.type === 'metrics') {
  return new Promise((resolve, reject) => {
    const found = c.messages.find(pick);
    if (found) return resolve(found);
    const onMessage = () => {
      const m = c.messages.find(pick);
      if (m) {
        c.ws.off('message', onMessage);
        resolve(m);
      }
    };
    c.ws.on('message', onMessage);
    c.ws.once('close', () => reject(new Error('closed before the message came')));
  });
}

describe('RealTimeDashboard', function () {
  let d;
  afterEach(async function () {
    if (d) await d.close();
    d = undefined;
  });

  describe('constructor', function () {
    it('takes the seed\'s port number', async function () {
      d = new RealTimeDashboard(0);
      await once(d, 'listening');
      assert.ok(d.port > 0);
      assert.strictEqual(d.interval, 1000);
      assert.strictEqual(d.address().port, d.port);
    });

    it('validates its options with exact messages', function () {
      const cases = [
        ['x', TypeError, /The "options" argument must be of type object/],
        [{ port: -1 }, RangeError, /The value of "options.port" is out of range. It must be an integer >= 0 and <= 65535. Received -1/],
        [{ port: 1.5 }, RangeError, /"options.port"/],
        [{ interval: 5 }, RangeError, /The value of "options.interval" is out of range. It must be an integer >= 10 and <= 86400000. Received 5/],
        [{ interval: 10.5 }, RangeError, /"options.interval"/],
        [{ history: -1 }, RangeError, /"options.history"/],
        [{ host: 1 }, TypeError, /The "options.host" argument must be of type string/],
        [{ server: {} }, TypeError, /The "options.server" argument must be an instance of http.Server/],
      ];
      for (const [options, Ctor, message] of cases) {
        assert.throws(() => new RealTimeDashboard(options), (err) => {
          assert.ok(err instanceof Ctor, `${JSON.stringify(options)}: ${err}`);
          assert.match(err.message, message);
          return true;
        });
      }
    });
  });

  describe('HTTP', function () {
    it('serves the page at / and its assets, the chart library from node_modules', async function () {
      d = await open();
      const page = await get(d.port, '/');
      assert.strictEqual(page.status, 200);
      assert.match(page.headers['content-type'], /^text\/html/);
      const html = page.body.toString();
      assert.match(html, /<script src="vendor\/uPlot.iife.min.js"><\/script>/);
      assert.match(html, /<script src="dashboard.js"><\/script>/);
      assert.doesNotMatch(html, /https?:\/\/[^"]*\.(js|css)"/, 'no asset from another host');
      assert.match(page.headers['content-security-policy'], /default-src 'self'/);

      const uplot = await get(d.port, '/vendor/uPlot.iife.min.js');
      assert.strictEqual(uplot.status, 200);
      assert.match(uplot.headers['content-type'], /^text\/javascript/);
      const onDisk = fs.readFileSync(path.join(path.dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.iife.min.js'));
      assert.ok(uplot.body.equals(onDisk));

      const uplotDir = path.dirname(require.resolve('uplot/package.json'));
      for (const [p, type, file] of [
        ['/vendor/uPlot.min.css', /^text\/css/, path.join(uplotDir, 'dist', 'uPlot.min.css')],
        ['/style.css', /^text\/css/, path.join(ROOT, 'static', 'style.css')],
        ['/dashboard.js', /^text\/javascript/, path.join(ROOT, 'static', 'dashboard.js')],
        ['/index.html', /^text\/html/, path.join(ROOT, 'static', 'index.html')],
      ]) {
        const r = await get(d.port, p);
        assert.strictEqual(r.status, 200, p);
        assert.match(r.headers['content-type'], type, p);
        assert.ok(r.body.equals(fs.readFileSync(file)), p);
      }
    });

    it('gzips when the client accepts it', async function () {
      d = await open();
      const r = await get(d.port, '/dashboard.js', { headers: { 'accept-encoding': 'gzip, br' } });
      assert.strictEqual(r.headers['content-encoding'], 'gzip');
      assert.ok(zlib.gunzipSync(r.body).equals(fs.readFileSync(path.join(ROOT, 'static', 'dashboard.js'))));
    });

    it('answers HEAD, 404 for unknown paths and 405 for other methods', async function () {
      d = await open();
      const head = await get(d.port, '/', { method: 'HEAD' });
      assert.strictEqual(head.status, 200);
      assert.strictEqual(head.body.length, 0);
      assert.ok(Number(head.headers['content-length']) > 0);
      assert.strictEqual((await get(d.port, '/nope')).status, 404);
      const post = await get(d.port, '/', { method: 'POST' });
      assert.strictEqual(post.status, 405);
      assert.strictEqual(post.headers.allow, 'GET, HEAD');
    });

    it('/metrics.json answers 503 before the first interval, then the latest metrics', async function () {
      d = await open({ interval: 60000 });
      const early = await get(d.port, '/metrics.json');
      assert.strictEqual(early.status, 503);
      assert.ok(early.headers['retry-after']);
      await d.close();
      d = await open();
      await once(d, 'metrics');
      const r = await get(d.port, '/metrics.json');
      assert.strictEqual(r.status, 200);
      assert.strictEqual(JSON.parse(r.body).type, 'metrics');
    });
  });

  describe('metrics over WebSocket', function () {
    it('broadcasts every field each interval', async function () {
      d = await open();
      const c = await client(d.port);
      const m = await next(c);
      assert.strictEqual(m.type, 'metrics');
      assert.strictEqual(m.interval, 50);
      assert.strictEqual(m.activeUsers, 1);
      assert.strictEqual(typeof m.time, 'number');
      assert.strictEqual(typeof m.uptime, 'number');
      assert.strictEqual(m.totalRequests, 0);
      assert.strictEqual(typeof m.requestsPerSecond, 'number');
      for (const k of ['count', 'mean', 'p50', 'p90', 'p99', 'max']) assert.strictEqual(typeof m.responseTime[k], 'number', k);
      for (const k of ['mean', 'p50', 'p99', 'max']) assert.ok(m.eventLoopDelay[k] >= 0, k);
      for (const k of ['percent', 'user', 'system']) assert.ok(m.cpu[k] >= 0, k);
      assert.ok(m.memory.rss > 0 && m.memory.heapUsed > 0 && m.memory.heapTotal >= m.memory.heapUsed);
      assert.ok(m.memory.external >= 0);
      for (const k of ['inPerSecond', 'outPerSecond', 'in', 'out']) assert.strictEqual(typeof m.messages[k], 'number', k);
      assert.deepStrictEqual(m.app, {});
      c.ws.close();
    });

    it('emits the same object as a metrics event and keeps it in `metrics`', async function () {
      d = await open();
      const [m] = await once(d, 'metrics');
      assert.strictEqual(d.metrics, m);
      assert.strictEqual(m.type, 'metrics');
    });

    it('reports the recorded requests and app metrics', async function () {
      d = await open();
      for (const ms of [10, 20, 30, 40, 1000]) d.recordRequest(ms);
      d.record('queue.depth', 3);
      d.record('queue.depth', 7);
      d.record('orders', 1);
      assert.strictEqual(d.totalRequests, 5);
      const [m] = await once(d, 'metrics');
      assert.strictEqual(m.totalRequests, 5);
      assert.strictEqual(m.responseTime.count, 5);
      assert.ok(m.responseTime.p50 >= 29 && m.responseTime.p50 <= 31, `p50 ${m.responseTime.p50}`);
      assert.strictEqual(m.responseTime.max, 1000);
      assert.ok(m.requestsPerSecond > 0);
      assert.strictEqual(m.app['queue.depth'].last, 7);
      assert.strictEqual(m.app['queue.depth'].count, 2);
      assert.strictEqual(m.app['queue.depth'].mean, 5);
      assert.strictEqual(m.app['queue.depth'].max, 7);
      assert.strictEqual(m.app.orders.last, 1);
      const [after] = await once(d, 'metrics');
      assert.strictEqual(after.requestsPerSecond, 0, 'per-second figures cover one interval');
      assert.strictEqual(after.totalRequests, 5);
    });

    it('counts active users and messages in and out', async function () {
      d = await open();
      const a = await client(d.port);
      const b = await client(d.port);
      assert.strictEqual(d.activeUsers, 2);
      a.ws.send('hello');
      a.ws.send('again');
      d.recordMessage('in', 3);
      d.recordMessage('out');
      const m = await next(a, (x) => x.type === 'metrics' && x.messages.in >= 5);
      assert.strictEqual(m.activeUsers, 2);
      assert.ok(m.messages.inPerSecond > 0);
      b.ws.close();
      await once(b.ws, 'close');
      const later = await next(a, (x) => x.type === 'metrics' && x.activeUsers === 1);
      assert.ok(later.messages.out > m.messages.out, 'broadcasts are counted as messages out');
      a.ws.close();
    });

    it('sends a new client the history first', async function () {
      d = await open({ history: 3 });
      for (let i = 0; i < 4; i++) await once(d, 'metrics');
      const c = await client(d.port);
      const h = await next(c, (m) => m.type === 'history');
      assert.strictEqual(h.items.length, 3);
      assert.ok(h.items.every((m) => m.type === 'metrics'));
      assert.strictEqual(c.messages[0].type, 'history', 'history comes before the next broadcast');
      c.ws.close();
    });

    it('history: 0 sends no history', async function () {
      d = await open({ history: 0 });
      await once(d, 'metrics');
      const c = await client(d.port);
      await next(c);
      assert.ok(!c.messages.some((m) => m.type === 'history'));
      c.ws.close();
    });
  });

  describe('#record, #recordRequest, #recordMessage', function () {
    it('validate their arguments', async function () {
      d = await open({ interval: 60000 });
      assert.throws(() => d.record(1, 1), { code: 'ERR_INVALID_ARG_TYPE', message: /"name"/ });
      assert.throws(() => d.record('', 1), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => d.record('x', -1), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => d.record('x', NaN), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => d.record('x', '1'), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => d.recordRequest(-5), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => d.recordMessage('sideways'), { code: 'ERR_INVALID_ARG_VALUE', message: /'in', 'out'/ });
      assert.throws(() => d.recordMessage('in', -1), { code: 'ERR_OUT_OF_RANGE' });
      assert.strictEqual(d.totalRequests, 0);
    });

    it('refuses a 257th app metric name', async function () {
      d = await open({ interval: 60000 });
      for (let i = 0; i < 256; i++) d.record(`m${i}`, i);
      d.record('m0', 1); // a known name is fine
      assert.throws(() => d.record('one-too-many', 1), { code: 'ERR_DASHBOARD_TOO_MANY_METRICS' });
    });
  });

  describe('#trackRequests', function () {
    it('times every request of a server until untracked', async function () {
      d = await open({ interval: 60000 });
      const api = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 5));
      api.listen(0, '127.0.0.1');
      await once(api, 'listening');
      const untrack = d.trackRequests(api);
      for (let i = 0; i < 3; i++) await get(api.address().port, '/');
      assert.strictEqual(d.totalRequests, 3);
      untrack();
      await get(api.address().port, '/');
      assert.strictEqual(d.totalRequests, 3);
      const m = d.collect();
      assert.strictEqual(m.responseTime.count, 3);
      assert.ok(m.responseTime.p50 >= 4, `p50 ${m.responseTime.p50}`);
      api.close();
      assert.throws(() => d.trackRequests({}), { code: 'ERR_INVALID_ARG_TYPE' });
    });
  });

  describe('options.server', function () {
    it('attaches to an app server, serves through handleRequest and leaves the server open on close', async function () {
      const app = http.createServer((req, res) => {
        if (req.url === '/api') return res.end('app');
        if (!d.handleRequest(req, res)) {
          res.statusCode = 418;
          res.end('not the dashboard');
        }
      });
      app.listen(0, '127.0.0.1');
      await once(app, 'listening');
      d = new RealTimeDashboard({ server: app, interval: 50 });
      await once(d, 'listening');
      const port = app.address().port;
      assert.strictEqual(d.port, port);
      assert.strictEqual((await get(port, '/api')).body.toString(), 'app');
      assert.strictEqual((await get(port, '/')).status, 200);
      assert.strictEqual((await get(port, '/elsewhere')).status, 418);
      const c = await client(port);
      await next(c);
      await d.close();
      d = undefined;
      assert.ok(app.listening, 'the app server is still listening');
      assert.strictEqual((await get(port, '/api')).body.toString(), 'app');
      await new Promise((r) => app.close(r));
    });
  });

  describe('#close', function () {
    it('closes clients with 1001, emits close once, is idempotent and takes a callback', async function () {
      d = await open();
      const c = await client(d.port);
      let closes = 0;
      d.on('close', () => closes++);
      const clientClosed = once(c.ws, 'close');
      let called = false;
      const p1 = d.close(() => (called = true));
      const p2 = d.close();
      assert.strictEqual(p1, p2);
      await p1;
      const [code] = await clientClosed;
      assert.strictEqual(code, 1001);
      assert.ok(called);
      assert.strictEqual(closes, 1);
      assert.strictEqual(d.server.listening, false);
      await d.close();
      assert.strictEqual(closes, 1);
      d = undefined;
    });

    it('stops broadcasting and recording', async function () {
      d = await open();
      await d.close();
      d.record('late', 1); // ignored, no throw
      d.recordRequest(5);
      assert.strictEqual(d.totalRequests, 0);
      let ticks = 0;
      d.on('metrics', () => ticks++);
      await new Promise((r) => setTimeout(r, 120));
      assert.strictEqual(ticks, 0);
      d = undefined;
    });

    it('works right after construction, before listening', async function () {
      const early = new RealTimeDashboard({ port: 0, host: '127.0.0.1' });
      await early.close();
      assert.strictEqual(early.server.listening, false);
    });

    it('closes a client that does not answer the close frame', async function () {
      d = await open();
      const c = await client(d.port);
      // Stop reading: the client never answers the close handshake.
      c.ws._socket.pause();
      await d.close();
      assert.strictEqual(d.server.listening, false);
      d = undefined;
      c.ws.terminate();
    });

    it('cuts an HTTP connection that holds a half-sent request', async function () {
      d = await open();
      const socket = require('node:net').connect(d.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
      await new Promise((r) => setTimeout(r, 20));
      const ended = once(socket, 'close');
      await d.close();
      await ended;
      assert.strictEqual(d.server.listening, false);
      d = undefined;
    });

    it('rejects a callback that is not a function', async function () {
      d = await open();
      assert.throws(() => d.close(1), { code: 'ERR_INVALID_ARG_TYPE', message: /"callback"/ });
    });
  });

  describe('broadcast()', function () {
    it("uses the server's native fan-out when it has one", function () {
      const calls = [];
      const wss = { clients: new Set([{}, {}]), broadcast: (data) => void calls.push(data) };
      assert.strictEqual(broadcast(wss, 'x'), 2);
      assert.deepStrictEqual(calls, ['x']);
      assert.strictEqual(broadcast({ clients: new Set(), broadcast: () => 5 }, 'y'), 5);
    });

    it('else sends to each open client that is not far behind', function () {
      const sent = [];
      const mk = (readyState, bufferedAmount) => ({ readyState, bufferedAmount, send: (d) => sent.push([readyState, bufferedAmount, d]) });
      const wss = { clients: new Set([mk(1, 0), mk(0, 0), mk(3, 0), mk(1, 10 << 20)]) };
      assert.strictEqual(broadcast(wss, 'x'), 1);
      assert.deepStrictEqual(sent, [[1, 0, 'x']]);
    });
  });

  describe('entry points', function () {
    it('require("ferrocast") and import from "ferrocast" export the breaker, the helpers and the dashboard', async function () {
      const names = ['CircuitBreaker', 'debugEvent', 'monitorListeners', 'traceEvents', 'RealTimeDashboard'];
      const cjs = require('..');
      assert.strictEqual(cjs.RealTimeDashboard, RealTimeDashboard);
      assert.strictEqual(cjs.CircuitBreaker, require('../lib/circuit-breaker').CircuitBreaker);
      const r = await runNode(
        `import * as f from 'ferrocast'; import d from 'ferrocast';
         console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof f[n] === 'function' && f[n] === d[n])));`,
        { args: ['--input-type=module'] },
      );
      assert.strictEqual(r.code, 0, r.stderr);
      assert.deepStrictEqual(JSON.parse(r.stdout), names.map(() => true));
    });

    it('index.d.ts types them: a consumer compiles with tsc --noEmit', function (done) {
      this.timeout(60000);
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      execFile(process.execPath, [tsc, '-p', path.join(__dirname, 'fixtures', 'tsconfig.dashboard.json')], { cwd: ROOT }, (err, stdout, stderr) => {
        assert.ifError(err && new Error(`tsc failed:\n${stdout}${stderr}`));
        done();
      });
    });
  });
});
