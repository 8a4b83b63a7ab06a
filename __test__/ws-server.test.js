'use strict';

// WebSocketServer from ferrocast/ws, against ws 8's documented behaviour. The reference client
// is the real `ws` package (a devDependency); raw sockets check the bytes on the wire.

const assert = require('node:assert');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');

const WebSocket = require('../ws');
const WS = require('ws');
const { rawClient, rawRequest, upgradeRequest, delay } = require('./ws-helpers');

const { WebSocketServer } = WebSocket;

function listen(options = {}) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options }, () => resolve(wss));
  });
}

function urlOf(wss, path = '') {
  return `ws://127.0.0.1:${wss.address().port}${path}`;
}

function closeServer(wss) {
  return new Promise((resolve) => {
    for (const c of wss.clients || []) c.terminate();
    wss.close(() => resolve());
  });
}

describe('WebSocketServer', function () {
  describe('module shape', function () {
    it('is shaped like ws: the class with WebSocket, Server, WebSocketServer, createWebSocketStream', function () {
      assert.strictEqual(typeof WebSocket, 'function');
      assert.strictEqual(WebSocket.WebSocket, WebSocket);
      assert.strictEqual(WebSocket.Server, WebSocket.WebSocketServer);
      assert.strictEqual(typeof WebSocket.createWebSocketStream, 'function');
      assert.deepStrictEqual(
        [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
        [0, 1, 2, 3],
      );
      const f = require('..');
      assert.deepStrictEqual(
        Object.keys(WebSocket).sort(),
        ['CLOSED', 'CLOSING', 'CONNECTING', 'OPEN', 'Server', 'WebSocket', 'WebSocketServer', 'createWebSocketStream'],
      );
      assert.strictEqual(f.WebSocket, WebSocket);
      assert.strictEqual(f.WebSocketServer, WebSocketServer);
      assert.strictEqual(f.createWebSocketStream, WebSocket.createWebSocketStream);
      assert.ok(new WebSocketServer({ noServer: true }) instanceof require('../events'));
    });
  });

  describe('entry points', function () {
    it("ESM: import WebSocket, { WebSocketServer } from 'ferrocast/ws'", async function () {
      const { runNode } = require('./helpers');
      const r = await runNode(
        `
        import WebSocket, { WebSocketServer, createWebSocketStream, WebSocket as Named } from 'ferrocast/ws';
        import { WebSocketServer as FromIndex } from 'ferrocast';
        const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
          const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
          ws.on('message', (d) => {
            console.log(JSON.stringify({
              d: d.toString(),
              same: Named === WebSocket && FromIndex === WebSocketServer,
              stream: typeof createWebSocketStream,
            }));
            ws.close();
            wss.close();
          });
        });
        wss.on('connection', (c) => c.send('esm'));
      `,
        { args: ['--input-type=module'] },
      );
      assert.strictEqual(r.code, 0, r.stderr);
      assert.deepStrictEqual(JSON.parse(r.stdout), { d: 'esm', same: true, stream: 'function' });
    });
  });

  describe('#constructor', function () {
    const message = /^One and only one of the "port", "server", or "noServer" options must be specified$/;

    it('throws a TypeError unless exactly one of port, server, noServer is given', function () {
      assert.throws(() => new WebSocketServer(), { name: 'TypeError', message });
      assert.throws(() => new WebSocketServer({}), { name: 'TypeError', message });
      assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), { name: 'TypeError', message });
      assert.throws(() => new WebSocketServer({ port: 0, server: http.createServer() }), {
        name: 'TypeError',
        message,
      });
      assert.throws(() => new WebSocketServer({ server: http.createServer(), noServer: true }), {
        name: 'TypeError',
        message,
      });
    });

    it('validates the fan-out options with Node-style errors', function () {
      assert.throws(() => new WebSocketServer({ noServer: true, maxBackpressure: 'x' }), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "options.maxBackpressure" argument must be of type number. Received type string (\'x\')',
      });
      assert.throws(() => new WebSocketServer({ noServer: true, backpressure: 'block' }), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
      assert.throws(() => new WebSocketServer({ noServer: true, idleTimeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    });

    it('listens on port and host, emits listening and calls the callback', async function () {
      let listening = false;
      const wss = await new Promise((resolve) => {
        const s = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => resolve(s));
        s.on('listening', () => (listening = true));
      });
      assert.ok(listening);
      const addr = wss.address();
      assert.strictEqual(addr.address, '127.0.0.1');
      assert.ok(addr.port > 0);
      await closeServer(wss);
    });

    it('answers plain HTTP requests with 426 Upgrade Required', async function () {
      const wss = await listen();
      const res = await new Promise((resolve) => http.get(`http://127.0.0.1:${wss.address().port}/`, resolve));
      assert.strictEqual(res.statusCode, 426);
      let body = '';
      for await (const c of res) body += c;
      assert.strictEqual(body, 'Upgrade Required');
      await closeServer(wss);
    });

    it('emits error when the port is taken', async function () {
      const a = await listen();
      const b = new WebSocketServer({ port: a.address().port, host: '127.0.0.1' });
      const [err] = await once(b, 'error');
      assert.strictEqual(err.code, 'EADDRINUSE');
      b.close();
      await closeServer(a);
    });
  });

  describe('connections', function () {
    it("emits connection with the WebSocket and the upgrade request", async function () {
      const wss = await listen();
      const client = new WS(urlOf(wss, '/chat?room=1'), { headers: { 'x-user': 'ada' } });
      const [ws, req] = await once(wss, 'connection');
      assert.ok(ws instanceof WebSocket);
      assert.ok(req instanceof http.IncomingMessage);
      assert.strictEqual(req.url, '/chat?room=1');
      assert.strictEqual(req.headers['x-user'], 'ada');
      assert.strictEqual(req.socket.remoteAddress, '127.0.0.1');
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      assert.strictEqual(ws.url, undefined);
      assert.strictEqual(ws.protocol, '');
      assert.strictEqual(ws.extensions, '');
      assert.strictEqual(ws.bufferedAmount, 0);
      await once(client, 'open');
      client.close();
      await once(ws, 'close');
      await closeServer(wss);
    });

    it('tracks clients in a Set, and not when clientTracking is false', async function () {
      const wss = await listen();
      const c1 = new WS(urlOf(wss));
      const [ws1] = await once(wss, 'connection');
      await once(c1, 'open');
      assert.ok(wss.clients.has(ws1));
      assert.strictEqual(wss.clients.size, 1);
      c1.close();
      await once(ws1, 'close');
      assert.strictEqual(wss.clients.size, 0);
      await closeServer(wss);

      const untracked = await listen({ clientTracking: false });
      assert.strictEqual(untracked.clients, undefined);
      const c2 = new WS(urlOf(untracked));
      const [ws2] = await once(untracked, 'connection');
      await once(c2, 'open');
      c2.close();
      await once(ws2, 'close');
      await new Promise((r) => untracked.close(r));
    });

    it('carries messages both ways, one event per message, in order', async function () {
      const wss = await listen();
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      const client = new WS(urlOf(wss));
      await once(client, 'open');
      const got = [];
      const done = new Promise((resolve) =>
        client.on('message', (d, isBinary) => {
          got.push([d.toString(), isBinary]);
          if (got.length === 200) resolve();
        }),
      );
      for (let i = 0; i < 200; i++) client.send(i % 2 ? `text ${i}` : Buffer.from(`bin ${i}`));
      await done;
      for (let i = 0; i < 200; i++) assert.deepStrictEqual(got[i], [i % 2 ? `text ${i}` : `bin ${i}`, i % 2 === 0]);
      client.close();
      await closeServer(wss);
    });


    it('reads every message that trickles in, a few at a time, on many connections', async function () {
      // Each read that empties a socket also clears its readiness; messages arriving just after
      // must still wake the reader. 20 clients × 300 messages, sent a few per event-loop turn.
      const wss = await listen();
      const counts = new Map();
      wss.on('connection', (ws) => {
        let next = 0;
        ws.on('message', (data) => {
          const [id, n] = data.toString().split(':').map(Number);
          assert.strictEqual(n, next, `client ${id}: message ${n} came where ${next} was due`);
          next++;
          counts.set(id, next);
          if (next === 300) ws.send('done');
        });
      });
      const clients = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const c = new WS(urlOf(wss));
          await once(c, 'open');
          return c;
        }),
      );
      const finished = clients.map((c) => once(c, 'message'));
      for (let n = 0; n < 300; ) {
        const upto = Math.min(300, n + 1 + (n % 3));
        for (; n < upto; n++) clients.forEach((c, id) => c.send(`${id}:${n}`));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(finished);
      for (let id = 0; id < 20; id++) assert.strictEqual(counts.get(id), 300);
      for (const c of clients) c.close();
      await closeServer(wss);
    });

    it('sends large messages whole and in order with small ones to a reader that stalls', async function () {
      // Large payloads go from the caller's memory straight to an idle socket; what the kernel
      // does not take (the reader has stopped) is queued behind them.
      const wss = await listen();
      const client = new WS(urlOf(wss));
      const [server] = await once(wss, 'connection');
      await once(client, 'open');
      client._socket.pause();
      const sizes = [];
      let called = 0;
      for (let i = 0; i < 40; i++) {
        const size = i % 4 === 3 ? 10 : 256 * 1024 + i;
        sizes.push(size);
        server.send(Buffer.alloc(size, i), () => called++);
      }
      assert.ok(server.bufferedAmount > 0, 'a stalled reader leaves bytes queued');
      const got = [];
      const all = new Promise((resolve) =>
        client.on('message', (d) => {
          got.push(d);
          if (got.length === sizes.length) resolve();
        }),
      );
      client._socket.resume();
      await all;
      got.forEach((d, i) => {
        assert.strictEqual(d.length, sizes[i], `message ${i}`);
        assert.ok(d.every((b) => b === i), `message ${i} holds its own bytes`);
      });
      for (let t = 0; called < sizes.length && t < 200; t++) await delay(10);
      assert.strictEqual(called, sizes.length);
      assert.strictEqual(server.bufferedAmount, 0);
      client.close();
      await closeServer(wss);
    });

    it('keeps the adopted connection open: no FIN after the handshake', async function () {
      const wss = await listen();
      const raw = await rawClient(wss.address().port);
      assert.match(raw.response, /^HTTP\/1\.1 101 Switching Protocols/);
      assert.ok(raw.response.includes(`Sec-WebSocket-Accept: ${raw.accept}`));
      await delay(200);
      assert.strictEqual(raw.state.ended, false, 'the server half-closed the socket');
      raw.socket.destroy();
      await closeServer(wss);
    });

    it('delivers a frame sent in the same packet as the upgrade request (head)', async function () {
      const wss = await listen();
      const { frame } = require('./ws-helpers');
      const got = new Promise((resolve) => wss.on('connection', (ws) => ws.on('message', (d) => resolve(d.toString()))));
      const raw = await rawClient(wss.address().port, { extra: frame(1, 'early bird') });
      assert.strictEqual(await got, 'early bird');
      raw.socket.destroy();
      await closeServer(wss);
    });
  });

  describe('#close', function () {
    it('emits close, calls back, and a second close gets "The server is not running"', async function () {
      const wss = await listen();
      let closed = 0;
      wss.on('close', () => closed++);
      await new Promise((resolve) => wss.close(resolve));
      assert.strictEqual(closed, 1);
      const err = await new Promise((resolve) => wss.close(resolve));
      assert.strictEqual(err.message, 'The server is not running');
    });

    it('does not close existing connections; emits close after the last one ends', async function () {
      const wss = await listen();
      const client = new WS(urlOf(wss));
      const [ws] = await once(wss, 'connection');
      let closed = false;
      wss.close(() => (closed = true));
      await delay(50);
      assert.strictEqual(closed, false);
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      ws.send('still here');
      const [msg] = await once(client, 'message');
      assert.strictEqual(msg.toString(), 'still here');
      client.close();
      await once(wss, 'close');
      assert.ok(closed);
    });

    it('answers 503 to upgrades in noServer mode after close()', async function () {
      const wss = new WebSocketServer({ noServer: true });
      const server = http.createServer();
      server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => {}));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      wss.close();
      const res = await rawRequest(server.address().port, upgradeRequest(server.address().port));
      assert.match(res, /^HTTP\/1\.1 503 Service Unavailable/);
      server.close();
    });
  });

  describe('handshake', function () {
    let wss;
    let port;
    beforeEach(async function () {
      wss = await listen();
      port = wss.address().port;
    });
    afterEach(function () {
      return closeServer(wss);
    });

    const cases = [
      ['a method other than GET', { method: 'POST' }, 405, 'Invalid HTTP method'],
      ['no Upgrade: websocket', { headers: { Upgrade: 'foo' } }, 400, 'Invalid Upgrade header'],
      [
        'a bad Sec-WebSocket-Key',
        { headers: { 'Sec-WebSocket-Key': 'short' } },
        400,
        'Missing or invalid Sec-WebSocket-Key header',
      ],
      [
        'an unsupported version',
        { headers: { 'Sec-WebSocket-Version': '12' } },
        400,
        'Missing or invalid Sec-WebSocket-Version header',
      ],
      [
        'a malformed Sec-WebSocket-Protocol',
        { headers: { 'Sec-WebSocket-Protocol': 'a,,b' } },
        400,
        'Invalid Sec-WebSocket-Protocol header',
      ],
    ];
    for (const [what, req, status, message] of cases) {
      it(`rejects ${what} with ${status} "${message}"`, async function () {
        const res = await rawRequest(port, upgradeRequest(port, req));
        assert.match(res, new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.ok(res.endsWith(`\r\n\r\n${message}`), res);
        if (status === 400 && message.includes('Version')) assert.match(res, /Sec-WebSocket-Version: 13, 8/);
      });

      it(`emits wsClientError for ${what} when someone listens`, async function () {
        const seen = new Promise((resolve) =>
          wss.on('wsClientError', (err, socket, request) => {
            assert.ok(socket instanceof net.Socket);
            assert.ok(request instanceof http.IncomingMessage);
            socket.end('HTTP/1.1 418 I\'m a Teapot\r\n\r\n');
            resolve(err);
          }),
        );
        const res = await rawRequest(port, upgradeRequest(port, req));
        const err = await seen;
        assert.strictEqual(err.message, message);
        assert.match(res, /^HTTP\/1\.1 418/);
      });
    }

    it('answers 400 when the path does not match', async function () {
      const strict = await listen({ path: '/ws' });
      const p = strict.address().port;
      assert.match(await rawRequest(p, upgradeRequest(p, { path: '/other' })), /^HTTP\/1\.1 400 Bad Request/);
      const ok = new WS(`ws://127.0.0.1:${p}/ws?x=1`);
      await once(ok, 'open');
      ok.close();
      await closeServer(strict);
    });

    it('selects the first subprotocol by default, or what handleProtocols returns', async function () {
      const c1 = new WS(urlOf(wss), ['a', 'b']);
      await once(c1, 'open');
      assert.strictEqual(c1.protocol, 'a');
      c1.close();

      const picky = await listen({
        handleProtocols: (protocols, req) => {
          assert.ok(protocols instanceof Set);
          assert.ok(req instanceof http.IncomingMessage);
          return protocols.has('b') ? 'b' : false;
        },
      });
      const c2 = new WS(urlOf(picky), ['a', 'b']);
      const [ws] = await once(picky, 'connection');
      await once(c2, 'open');
      assert.strictEqual(c2.protocol, 'b');
      assert.strictEqual(ws.protocol, 'b');
      c2.close();
      await closeServer(picky);
    });

    it("lets 'headers' listeners add response headers", async function () {
      wss.on('headers', (headers, req) => {
        assert.ok(req instanceof http.IncomingMessage);
        headers.push('Set-Cookie: session=1');
      });
      const client = new WS(urlOf(wss));
      const upgraded = once(client, 'upgrade');
      const opened = once(client, 'open');
      const [res] = await upgraded;
      assert.deepStrictEqual(res.headers['set-cookie'], ['session=1']);
      await opened;
      client.close();
    });

    it('rejects with 401 when a sync verifyClient returns false, and passes origin and secure', async function () {
      const infos = [];
      const guarded = await listen({
        verifyClient: (info) => {
          infos.push(info);
          return info.origin === 'https://good.example';
        },
      });
      const p = guarded.address().port;
      const bad = new WS(`ws://127.0.0.1:${p}`, { origin: 'https://evil.example' });
      const [err] = await once(bad, 'error');
      assert.strictEqual(err.message, 'Unexpected server response: 401');
      const good = new WS(`ws://127.0.0.1:${p}`, { origin: 'https://good.example' });
      await once(good, 'open');
      assert.strictEqual(infos[0].secure, false);
      assert.ok(infos[0].req instanceof http.IncomingMessage);
      good.close();
      await closeServer(guarded);
    });

    it('supports an async verifyClient with a custom status, message and headers', async function () {
      const guarded = await listen({
        verifyClient: (info, cb) => {
          setTimeout(() => {
            if (info.req.headers.authorization === 'Bearer ok') cb(true);
            else cb(false, 403, 'Go away', { 'X-Reason': 'token' });
          }, 10);
        },
      });
      const p = guarded.address().port;
      const res = await rawRequest(p, upgradeRequest(p));
      assert.match(res, /^HTTP\/1\.1 403 Forbidden/);
      assert.match(res, /X-Reason: token/);
      assert.ok(res.endsWith('Go away'));
      const ok = new WS(`ws://127.0.0.1:${p}`, { headers: { Authorization: 'Bearer ok' } });
      await once(ok, 'open');
      ok.close();
      await closeServer(guarded);
    });
  });

  describe('server option', function () {
    it('shares an http server: requests still reach the app, upgrades reach the WebSocket server', async function () {
      const server = http.createServer((req, res) => res.end(`app ${req.url}`));
      const wss = new WebSocketServer({ server });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const port = server.address().port;
      assert.strictEqual(wss.address().port, port);
      const res = await new Promise((resolve) => http.get(`http://127.0.0.1:${port}/health`, resolve));
      let body = '';
      for await (const c of res) body += c;
      assert.strictEqual(body, 'app /health');
      wss.on('connection', (ws) => ws.send('hi from native'));
      const client = new WS(`ws://127.0.0.1:${port}`);
      const [msg] = await once(client, 'message');
      assert.strictEqual(msg.toString(), 'hi from native');
      client.close();
      await once(client, 'close');
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    });

    it("forwards the http server's listening and error events", async function () {
      const server = http.createServer();
      const wss = new WebSocketServer({ server });
      const listening = once(wss, 'listening');
      server.listen(0, '127.0.0.1');
      await listening;
      const failed = once(wss, 'error');
      server.emit('error', new Error('boom'));
      assert.strictEqual((await failed)[0].message, 'boom');
      wss.close();
      server.close();
    });
  });

  describe('noServer option and #handleUpgrade', function () {
    it('routes upgrades by path to several servers', async function () {
      const a = new WebSocketServer({ noServer: true });
      const b = new WebSocketServer({ noServer: true });
      assert.throws(() => a.address(), { message: 'The server is operating in "noServer" mode' });
      const server = http.createServer();
      server.on('upgrade', (req, socket, head) => {
        const target = req.url === '/a' ? a : req.url === '/b' ? b : null;
        if (!target) return socket.destroy();
        target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
      });
      a.on('connection', (ws) => ws.send('a'));
      b.on('connection', (ws) => ws.send('b'));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const port = server.address().port;
      for (const name of ['a', 'b']) {
        const c = new WS(`ws://127.0.0.1:${port}/${name}`);
        const [msg] = await once(c, 'message');
        assert.strictEqual(msg.toString(), name);
        c.close();
        await once(c, 'close');
      }
      a.close();
      b.close();
      server.close();
    });

    it('throws when handleUpgrade is called twice with the same socket', async function () {
      const wss = new WebSocketServer({ noServer: true });
      const server = http.createServer();
      const thrown = new Promise((resolve) =>
        server.on('upgrade', (req, socket, head) => {
          wss.handleUpgrade(req, socket, head, () => {});
          try {
            wss.handleUpgrade(req, socket, head, () => {});
          } catch (err) {
            resolve(err);
          }
        }),
      );
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const c = new WS(`ws://127.0.0.1:${server.address().port}`);
      c.on('error', () => {});
      const err = await thrown;
      assert.strictEqual(
        err.message,
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
      c.terminate();
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
      server.close();
    });

    it('uses a custom shouldHandle', async function () {
      const wss = await listen();
      wss.shouldHandle = (req) => req.headers['x-allow'] === 'yes';
      const p = wss.address().port;
      assert.match(await rawRequest(p, upgradeRequest(p)), /^HTTP\/1\.1 400/);
      const c = new WS(`ws://127.0.0.1:${p}`, { headers: { 'x-allow': 'yes' } });
      await once(c, 'open');
      c.close();
      await closeServer(wss);
    });

    it('uses the WebSocket option as the class of accepted sockets', async function () {
      class Tagged extends WebSocket {}
      const wss = await listen({ WebSocket: Tagged });
      const c = new WS(urlOf(wss));
      const [ws] = await once(wss, 'connection');
      assert.ok(ws instanceof Tagged);
      await once(c, 'open');
      c.close();
      await closeServer(wss);
    });
  });
});
