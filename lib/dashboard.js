'use strict';

/**
 * RealTimeDashboard: the seed's dashboard made real. One HTTP server serves a live web page at
 * `/` and WebSocket metrics on the same port; every `interval` ms the dashboard collects its
 * metrics and broadcasts one JSON message to every connected page:
 *
 *   { type: 'metrics', time, uptime, interval,
 *     activeUsers,                       connected WebSocket clients
 *     totalRequests, requestsPerSecond,  from recordRequest() / trackRequests()
 *     responseTime: { count, mean, p50, p90, p99, max },   ms, over the last 10 intervals
 *     eventLoopDelay: { mean, p50, p99, max },             ms, over the last interval
 *     cpu: { percent, user, system },    % of one core over the last interval
 *     memory: { rss, heapUsed, heapTotal, external },      bytes
 *     messages: { inPerSecond, outPerSecond, in, out },    WebSocket messages (see recordMessage)
 *     app: { [name]: { last, count, mean, min, max, p50, p90, p99, rate } } }  from record()
 *
 * A page that connects first gets `{ type: 'history', items: [...] }` with the last `history`
 * messages, so its charts start full. `/metrics.json` answers the latest message over plain HTTP.
 *
 * Events: 'listening', 'connection' (ws), 'metrics' (the object broadcast), 'error', 'close'.
 */

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const EventEmitter = require('../events');
// ferrocast's own WebSocket server: native I/O, and broadcast() fans out in Rust.
const { WebSocketServer } = require('../ws');
const { MetricWindow } = require('./metric-window');
const {
  codedError,
  invalidType,
  validateFunction,
  validateNumber,
  validateObject,
  validateString,
} = require('./validate');

const OPEN = 1; // WebSocket readyState
const MAX_BUFFERED = 1 << 20; // a client this far behind skips a broadcast rather than pile up
const MAX_APP_METRICS = 256;
const CLOSE_GRACE = 200; // ms given to clients to answer the close frame before they are cut
const LOOP_RESOLUTION = 10; // ms, of the event-loop delay monitor

const STATIC_DIR = path.join(__dirname, '..', 'static');
const UPLOT_DIR = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
const ASSETS = new Map([
  ['/', [path.join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8']],
  ['/index.html', [path.join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8']],
  ['/dashboard.js', [path.join(STATIC_DIR, 'dashboard.js'), 'text/javascript; charset=utf-8']],
  ['/style.css', [path.join(STATIC_DIR, 'style.css'), 'text/css; charset=utf-8']],
  ['/vendor/uPlot.iife.min.js', [path.join(UPLOT_DIR, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8']],
  ['/vendor/uPlot.min.css', [path.join(UPLOT_DIR, 'uPlot.min.css'), 'text/css; charset=utf-8']],
]);
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
};

// Asset bodies, read once per process (plain and gzipped).
const assetCache = new Map();
function loadAsset(file) {
  let entry = assetCache.get(file);
  if (entry === undefined) {
    entry = fs.promises.readFile(file).then((body) => ({ body, gzip: zlib.gzipSync(body) }));
    entry.catch(() => assetCache.delete(file));
    assetCache.set(file, entry);
  }
  return entry;
}

/**
 * Sends `data` to every open client: through the server's native fan-out when it has one
 * (`wss.broadcast`), else one `send` per client, skipping clients that are far behind.
 * Returns the number of clients it was sent to.
 */
function broadcast(wss, data) {
  if (typeof wss.broadcast === 'function') {
    const sent = wss.broadcast(data);
    return typeof sent === 'number' ? sent : wss.clients.size;
  }
  let sent = 0;
  wss.clients.forEach((client) => {
    if (client.readyState === OPEN && client.bufferedAmount < MAX_BUFFERED) {
      client.send(data);
      sent += 1;
    }
  });
  return sent;
}

function round(value, digits = 3) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

class RealTimeDashboard extends EventEmitter {
  /**
   * @param {number|object} [options] the port (the seed's signature), or options:
   * @param {number} [options.port=8080] port to listen on (0: any free port); ignored with `server`
   * @param {string} [options.host] address to listen on (default: every interface, like
   *   `server.listen(port)`)
   * @param {number} [options.interval=1000] ms between metric broadcasts
   * @param {number} [options.history=120] messages kept and sent to a page when it connects
   * @param {http.Server} [options.server] an HTTP server of your own: the dashboard attaches its
   *   WebSocket server to it and serves nothing else; route the page's requests to
   *   `dashboard.handleRequest(req, res)`. close() leaves that server open.
   */
  constructor(options = {}) {
    super();
    if (typeof options === 'number') options = { port: options };
    validateObject(options, 'options');
    const interval = validateNumber(options.interval ?? 1000, 'options.interval', { min: 10, max: 86400000, integer: true });
    const history = validateNumber(options.history ?? 120, 'options.history', { min: 0, max: 100000, integer: true });
    let port = 8080;
    if (options.port !== undefined) port = validateNumber(options.port, 'options.port', { min: 0, max: 65535, integer: true });
    const host = options.host === undefined ? undefined : validateString(options.host, 'options.host');
    if (options.server !== undefined && !(options.server instanceof http.Server)) {
      throw invalidType('options.server', 'an instance of http.Server', options.server);
    }

    this.interval = interval;
    this.metrics = null; // the last message broadcast
    this._historySize = history;
    this._history = [];
    this._started = Date.now();
    this._closed = false;
    this._closing = null;
    this._totalRequests = 0;
    this._requestsSinceTick = 0;
    this._msgIn = 0;
    this._msgOut = 0;
    this._msgInSinceTick = 0;
    this._msgOutSinceTick = 0;
    this._lastValues = new Map();
    // Unref'd: what keeps the process alive is the server and the interval timer, until close().
    this._responseTimes = new MetricWindow({ window: interval * 10, slide: interval, percentiles: [50, 90, 99] }).unref();
    this._app = new MetricWindow({ window: interval * 10, slide: interval, percentiles: [50, 90, 99] }).unref();
    this._eventLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION });
    this._eventLoop.enable();
    this._lastTick = performance.now();
    this._lastCpu = process.cpuUsage();
    this._tracked = new Set();

    this._ownServer = options.server === undefined;
    this.server = this._ownServer ? http.createServer((req, res) => this.handleRequest(req, res)) : options.server;
    this._listenFailed = false;
    this.server.on('error', (err) => {
      if (!this.server.listening) this._listenFailed = true;
      this.emit('error', err);
    });
    this.wss = new WebSocketServer({ server: this.server, maxPayload: 64 * 1024 });
    this.wss.on('error', (err) => this.emit('error', err));
    this.wss.on('connection', (ws, req) => this._onConnection(ws, req));

    this._timer = setInterval(() => this._tick(), interval);
    if (this._ownServer) {
      this.server.once('listening', () => this.emit('listening'));
      this.server.listen(port, host);
    } else {
      // The app's server keeps the process alive; the dashboard's timer does not.
      this._timer.unref();
      if (this.server.listening) process.nextTick(() => this.emit('listening'));
      else this.server.once('listening', () => this.emit('listening'));
    }
  }

  /** The server's address (`server.address()`), null until listening. */
  address() {
    return this.server.address();
  }

  /** The port listened on (useful with port 0), or null before listening. */
  get port() {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  /** Connected WebSocket clients. */
  get activeUsers() {
    return this.wss.clients.size;
  }

  /** Requests counted by recordRequest() and trackRequests(). */
  get totalRequests() {
    return this._totalRequests;
  }

  /**
   * Records a metric of the app, shown on the page as its last value and its statistics over the
   * last 10 intervals. `value` must be in [0, 2^40]. At most 256 names. Ignored after close().
   */
  record(name, value) {
    if (this._closed) return;
    validateString(name, 'name');
    if (name.length === 0 || name.length > 100) {
      throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `The length of "name" is out of range. It must be >= 1 and <= 100. Received ${name.length}`);
    }
    if (!this._lastValues.has(name) && this._lastValues.size >= MAX_APP_METRICS) {
      throw codedError(
        RangeError,
        'ERR_DASHBOARD_TOO_MANY_METRICS',
        `The dashboard already shows ${MAX_APP_METRICS} app metrics; record fewer distinct names`,
      );
    }
    this._app.record(name, value); // validates value
    this._lastValues.set(name, value);
  }

  /** Counts one request that took `ms` milliseconds (response-time percentiles, req/s). Ignored after close(). */
  recordRequest(ms) {
    if (this._closed) return;
    this._responseTimes.record(ms); // validates ms
    this._totalRequests += 1;
    this._requestsSinceTick += 1;
  }

  /** Counts WebSocket messages of the app: direction 'in' or 'out', `count` of them (default 1). */
  recordMessage(direction, count = 1) {
    validateNumber(count, 'count', { min: 0, integer: true });
    if (direction === 'in') {
      this._msgIn += count;
      this._msgInSinceTick += count;
    } else if (direction === 'out') {
      this._msgOut += count;
      this._msgOutSinceTick += count;
    } else {
      throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'direction' must be one of: 'in', 'out'. Received ${String(direction)}`);
    }
  }

  /**
   * Times every request `server` handles, from 'request' to the response's 'finish' or 'close',
   * and records it with recordRequest(). Returns a function that stops tracking.
   */
  trackRequests(server) {
    if (!(server instanceof http.Server)) throw invalidType('server', 'an instance of http.Server', server);
    const onRequest = (_req, res) => {
      const start = performance.now();
      let done = false;
      const finish = () => {
        if (done || this._closed) return;
        done = true;
        this.recordRequest(performance.now() - start);
      };
      res.once('finish', finish);
      res.once('close', finish);
    };
    server.prependListener('request', onRequest);
    const untrack = () => {
      server.removeListener('request', onRequest);
      this._tracked.delete(untrack);
    };
    this._tracked.add(untrack);
    return untrack;
  }

  /**
   * Serves the dashboard's page, its assets and /metrics.json. Returns true when it answered the
   * request, false when the path is not the dashboard's (the response is left to the caller).
   */
  handleRequest(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const isAsset = ASSETS.has(url.pathname);
    if (!isAsset && url.pathname !== '/metrics.json') {
      if (!this._ownServer) return false;
      this._send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      this._send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
      return true;
    }
    if (url.pathname === '/metrics.json') {
      if (this.metrics === null) {
        res.setHeader('Retry-After', String(Math.ceil(this.interval / 1000)));
        this._send(res, 503, 'application/json; charset=utf-8', '{"error":"no metrics yet"}', req.method === 'HEAD');
      } else {
        this._send(res, 200, 'application/json; charset=utf-8', JSON.stringify(this.metrics), req.method === 'HEAD');
      }
      return true;
    }
    const [file, type] = ASSETS.get(url.pathname);
    loadAsset(file).then(
      ({ body, gzip }) => {
        const useGzip = /\bgzip\b/.test(req.headers['accept-encoding'] || '');
        if (useGzip) res.setHeader('Content-Encoding', 'gzip');
        res.setHeader('Vary', 'Accept-Encoding');
        this._send(res, 200, type, useGzip ? gzip : body, req.method === 'HEAD');
      },
      (err) => {
        this._send(res, 500, 'text/plain; charset=utf-8', 'The dashboard could not read one of its files\n');
        this.emit('error', err);
      },
    );
    return true;
  }

  _send(res, status, type, body, headOnly = false) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': buf.length,
      'Cache-Control': 'no-cache',
    });
    res.end(headOnly ? undefined : buf);
  }

  _onConnection(ws, req) {
    if (this._closed) {
      ws.terminate();
      return;
    }
    ws.on('message', () => {
      this._msgIn += 1;
      this._msgInSinceTick += 1;
    });
    ws.on('error', () => {}); // a client's protocol error closes it; nothing else to do
    if (this._history.length > 0) {
      ws.send(JSON.stringify({ type: 'history', items: this._history }));
      this._msgOut += 1;
      this._msgOutSinceTick += 1;
    }
    this.emit('connection', ws, req);
  }

  /** Collects the metrics of the interval that just ended. */
  collect() {
    const nowPerf = performance.now();
    const seconds = Math.max((nowPerf - this._lastTick) / 1000, 1e-3);
    this._lastTick = nowPerf;
    const cpu = process.cpuUsage(this._lastCpu);
    this._lastCpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const h = this._eventLoop;
    const hasLoop = h.count > 0;
    // The histogram records the time between its timer's runs: the delay is what exceeds the
    // timer's resolution.
    const late = (ns) => (hasLoop ? round(Math.max(0, ns / 1e6 - LOOP_RESOLUTION)) : 0);
    const eventLoopDelay = {
      mean: late(h.mean),
      p50: late(h.percentile(50)),
      p99: late(h.percentile(99)),
      max: late(h.max),
    };
    h.reset();
    const rt = (this._closed ? null : this._responseTimes.snapshot()) ?? { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const app = {};
    for (const [name, last] of this._lastValues) {
      const s = (this._closed ? null : this._app.snapshot(name)) ?? { count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0, rate: 0 };
      app[name] = {
        last,
        count: s.count,
        mean: round(s.mean),
        min: round(s.min),
        max: round(s.max),
        p50: round(s.p50),
        p90: round(s.p90),
        p99: round(s.p99),
        rate: round(s.rate),
      };
    }
    const metrics = {
      type: 'metrics',
      time: Date.now(),
      uptime: round((Date.now() - this._started) / 1000, 1),
      interval: this.interval,
      activeUsers: this.wss.clients.size,
      totalRequests: this._totalRequests,
      requestsPerSecond: round(this._requestsSinceTick / seconds, 2),
      responseTime: {
        count: rt.count,
        mean: round(rt.mean),
        p50: round(rt.p50),
        p90: round(rt.p90),
        p99: round(rt.p99),
        max: round(rt.max),
      },
      eventLoopDelay,
      cpu: {
        percent: round(((cpu.user + cpu.system) / 1e4) / seconds, 1),
        user: round((cpu.user / 1e4) / seconds, 1),
        system: round((cpu.system / 1e4) / seconds, 1),
      },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external },
      messages: {
        inPerSecond: round(this._msgInSinceTick / seconds, 2),
        outPerSecond: round(this._msgOutSinceTick / seconds, 2),
        in: this._msgIn,
        out: this._msgOut,
      },
      app,
    };
    this._requestsSinceTick = 0;
    this._msgInSinceTick = 0;
    this._msgOutSinceTick = 0;
    return metrics;
  }

  _tick() {
    const metrics = this.collect();
    this.metrics = metrics;
    if (this._historySize > 0) {
      this._history.push(metrics);
      if (this._history.length > this._historySize) this._history.shift();
    }
    const sent = broadcast(this.wss, JSON.stringify(metrics));
    this._msgOut += sent;
    this._msgOutSinceTick += sent;
    this.emit('metrics', metrics);
  }

  /**
   * Stops the timer and the event-loop monitor, closes every WebSocket (code 1001), the WebSocket
   * server and, unless it was given one, the HTTP server; then emits 'close'. Idempotent. Calls
   * `callback` and resolves the returned promise once everything is closed.
   */
  close(callback) {
    if (callback !== undefined) validateFunction(callback, 'callback');
    if (this._closing === null) {
      this._closed = true;
      clearInterval(this._timer);
      this._eventLoop.disable();
      for (const untrack of [...this._tracked]) untrack();
      this._closing = new Promise((resolve) => {
        const clients = [...this.wss.clients];
        for (const ws of clients) ws.close(1001, 'dashboard closing');
        // After the grace period, cut what is left: clients that did not answer the close frame,
        // and HTTP connections still busy (a browser can hold a request half-sent for minutes).
        const cut = setTimeout(() => {
          for (const ws of clients) if (ws.readyState !== 3) ws.terminate();
          if (this._ownServer && typeof this.server.closeAllConnections === 'function') this.server.closeAllConnections();
        }, CLOSE_GRACE);
        let pending = this._ownServer ? 2 : 1;
        const done = () => {
          pending -= 1;
          if (pending > 0) return;
          clearTimeout(cut);
          for (const ws of clients) if (ws.readyState !== 3) ws.terminate();
          this._responseTimes.close();
          this._app.close();
          process.nextTick(() => {
            this.emit('close');
            resolve();
          });
        };
        this.wss.close(() => done());
        if (this._ownServer) {
          const closeServer = () => {
            this.server.close(() => done());
            this.server.closeIdleConnections();
          };
          if (this.server.listening) closeServer();
          else if (this._listenFailed) done();
          else {
            // listen() still resolving its address: close once it listens, or give up if it fails.
            const onListening = () => {
              this.server.removeListener('error', onError);
              closeServer();
            };
            const onError = () => {
              this.server.removeListener('listening', onListening);
              done();
            };
            this.server.once('listening', onListening);
            this.server.once('error', onError);
          }
        }
      });
    }
    if (callback !== undefined) this._closing.then(() => callback());
    return this._closing;
  }
}

module.exports = { RealTimeDashboard, broadcast };
