'use strict';

// The WebSocket class of ferrocast/ws: as a client (against a real `ws` server and against a
// ferrocast server) and as the server side of a connection. ws 8's behaviour is the spec.

const assert = require('node:assert');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const { once } = require('node:events');

const WebSocket = require('../ws');
const WS = require('ws');
const { delay, rawClient, rawServer, frame } = require('./ws-helpers');

function wsServer(options = {}) {
  return new Promise((resolve) => {
    const wss = new WS.WebSocketServer({ port: 0, host: '127.0.0.1', ...options }, () => resolve(wss));
  });
}

function ferroServer(options = {}) {
  return new Promise((resolve) => {
    const wss = new WebSocket.WebSocketServer({ port: 0, host: '127.0.0.1', ...options }, () => resolve(wss));
  });
}

function stop(wss) {
  return new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  });
}

const url = (wss, p = '') => `ws://127.0.0.1:${wss.address().port}${p}`;

/** Collects `n` messages as [text, isBinary]. */
function collect(ws, n) {
  return new Promise((resolve) => {
    const got = [];
    ws.on('message', function onMessage(data, isBinary) {
      got.push([data, isBinary]);
      if (got.length === n) {
        ws.removeListener('message', onMessage);
        resolve(got);
      }
    });
  });
}

/** Resolves with [code, reason] of the 'close' event, ignoring 'error'. */
function closed(ws) {
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
}

describe('WebSocket (client)', function () {
  describe('#constructor', function () {
    it('rejects bad URLs with ws\'s SyntaxErrors', function () {
      assert.throws(() => new WebSocket('foo'), { name: 'SyntaxError', message: 'Invalid URL: foo' });
      assert.throws(() => new WebSocket('ftp://127.0.0.1'), {
        name: 'SyntaxError',
        message: 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
      });
      assert.throws(() => new WebSocket('ws://127.0.0.1/#frag'), {
        name: 'SyntaxError',
        message: 'The URL contains a fragment identifier',
      });
    });

    it('rejects invalid or duplicated subprotocols and unsupported protocol versions', function () {
      for (const protocols of [['a', 'a'], ['bad proto'], [1]]) {
        assert.throws(() => new WebSocket('ws://127.0.0.1:1', protocols), {
          name: 'SyntaxError',
          message: 'An invalid or duplicated subprotocol was specified',
        });
      }
      assert.throws(() => new WebSocket('ws://127.0.0.1:1', { protocolVersion: 1 }), {
        name: 'RangeError',
        message: 'Unsupported protocol version: 1 (supported versions: 8, 13)',
      });
    });

    it('starts CONNECTING and throws on send before open', async function () {
      const wss = await wsServer();
      const ws = new WebSocket(url(wss));
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);
      assert.strictEqual(ws.url, url(wss, '/'));
      assert.throws(() => ws.send('x'), { message: 'WebSocket is not open: readyState 0 (CONNECTING)' });
      assert.throws(() => ws.ping(), { message: 'WebSocket is not open: readyState 0 (CONNECTING)' });
      await once(ws, 'open');
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      ws.close();
      await closed(ws);
      await stop(wss);
    });

    it('accepts http: URLs as ws:', async function () {
      const wss = await wsServer();
      const ws = new WebSocket(`http://127.0.0.1:${wss.address().port}`);
      assert.ok(ws.url.startsWith('ws://'));
      await once(ws, 'open');
      ws.close();
      await closed(ws);
      await stop(wss);
    });
  });

  for (const [peer, makeServer] of [
    ['a ws server', wsServer],
    ['a ferrocast server', ferroServer],
  ]) {
    describe(`talking to ${peer}`, function () {
      let wss;
      let serverSide;
      beforeEach(async function () {
        wss = await makeServer();
        serverSide = new Promise((resolve) => wss.once('connection', resolve));
      });
      afterEach(function () {
        return stop(wss);
      });

      it('sends every data type with the right frame type', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const got = collect(server, 9);
        ws.send('text');
        ws.send(Buffer.from('buffer'));
        ws.send(new Uint8Array([1, 2]).buffer);
        ws.send(new Uint16Array([0x4241]));
        ws.send(new DataView(new Uint8Array([7, 8, 9]).buffer, 1, 2));
        ws.send(42);
        ws.send('as binary', { binary: true });
        ws.send(Buffer.from('as text'), { binary: false });
        ws.send(new Blob(['blob']));
        const msgs = await got;
        assert.deepStrictEqual(
          msgs.map(([d, b]) => [Buffer.from(d).toString('hex'), b]),
          [
            [Buffer.from('text').toString('hex'), false],
            [Buffer.from('buffer').toString('hex'), true],
            ['0102', true],
            ['4142', true],
            ['0809', true],
            [Buffer.from('42').toString('hex'), false],
            [Buffer.from('as binary').toString('hex'), true],
            [Buffer.from('as text').toString('hex'), false],
            [Buffer.from('blob').toString('hex'), true],
          ],
        );
        ws.close();
        await closed(ws);
      });

      it('reads send options the way ws merges them (own enumerable properties only)', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const got = collect(server, 4);
        // ws spreads options over its defaults: an own `binary: undefined` wins (text), an
        // inherited or non-enumerable `binary` is ignored (a Buffer stays binary).
        ws.send(Buffer.from('own undefined'), { binary: undefined });
        ws.send(Buffer.from('inherited'), Object.create({ binary: false }));
        ws.send(Buffer.from('hidden'), Object.defineProperty({}, 'binary', { value: false }));
        ws.send('string options', 'not an object');
        assert.deepStrictEqual(
          (await got).map(([d, b]) => [d.toString(), b]),
          [
            ['own undefined', false],
            ['inherited', true],
            ['hidden', true],
            ['string options', false],
          ],
        );
        ws.close();
        await closed(ws);
      });

      it('keeps order when a Blob is followed by other sends', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const got = collect(server, 3);
        ws.send('first');
        ws.send(new Blob(['second']));
        ws.send('third');
        assert.deepStrictEqual((await got).map(([d]) => d.toString()), ['first', 'second', 'third']);
        ws.close();
        await closed(ws);
      });

      it('sends fragments with fin: false', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const got = collect(server, 1);
        ws.send('Hel', { fin: false });
        ws.send('lo', { fin: false });
        ws.send('!', { fin: true });
        const [[data, isBinary]] = await got;
        assert.strictEqual(data.toString(), 'Hello!');
        assert.strictEqual(isBinary, false);
        ws.close();
        await closed(ws);
      });

      it('calls send callbacks once the data is written, in order, with null as ws does', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const order = [];
        await new Promise((resolve) => {
          ws.send('a', (...args) => order.push(['a', ...args]));
          ws.send('b', {}, (...args) => order.push(['b', ...args]));
          ws.ping('p', (...args) => {
            order.push(['ping', ...args]);
            resolve();
          });
        });
        assert.deepStrictEqual(order, [
          ['a', null],
          ['b', null],
          ['ping', null],
        ]);
        ws.close();
        await closed(ws);
      });

      it('calls back a send written at once in the next tick, before timers and I/O, as ws does', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const order = [];
        await new Promise((resolve) => {
          setImmediate(() => order.push('setImmediate'));
          ws.send('a', (err) => order.push(['a', err]));
          ws.send(Buffer.alloc(8192), (err) => order.push(['8 KiB', err]));
          process.nextTick(() => order.push('nextTick'));
          setTimeout(resolve, 50);
        });
        assert.deepStrictEqual(order, [['a', null], ['8 KiB', null], 'nextTick', 'setImmediate']);
        ws.close();
        await closed(ws);
      });

      it('receives messages with binaryType nodebuffer, arraybuffer and fragments', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        assert.strictEqual(ws.binaryType, 'nodebuffer');
        ws.binaryType = 'bogus';
        assert.strictEqual(ws.binaryType, 'nodebuffer');
        let got = collect(ws, 2);
        server.send(Buffer.from([1, 2, 3]));
        server.send('txt');
        let msgs = await got;
        assert.ok(Buffer.isBuffer(msgs[0][0]) && msgs[0][1] === true);
        assert.ok(Buffer.isBuffer(msgs[1][0]) && msgs[1][1] === false);
        ws.binaryType = 'arraybuffer';
        got = collect(ws, 1);
        server.send(Buffer.from([4, 5]));
        msgs = await got;
        assert.ok(msgs[0][0] instanceof ArrayBuffer);
        assert.deepStrictEqual([...new Uint8Array(msgs[0][0])], [4, 5]);
        ws.binaryType = 'fragments';
        got = collect(ws, 1);
        server.send(Buffer.from([6]));
        msgs = await got;
        assert.ok(Array.isArray(msgs[0][0]));
        assert.deepStrictEqual(Buffer.concat(msgs[0][0]), Buffer.from([6]));
        ws.close();
        await closed(ws);
      });

      it('pings and pongs with payloads; answers pings automatically', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const pong = once(ws, 'pong');
        ws.ping('are you there');
        assert.strictEqual((await pong)[0].toString(), 'are you there');
        const ping = once(ws, 'ping');
        const autoPong = once(server, 'pong');
        server.ping('hello');
        assert.strictEqual((await ping)[0].toString(), 'hello');
        assert.strictEqual((await autoPong)[0].toString(), 'hello');
        const unsolicited = once(server, 'pong');
        ws.pong(Buffer.from('free'));
        assert.strictEqual((await unsolicited)[0].toString(), 'free');
        assert.throws(() => ws.ping(Buffer.alloc(126)), {
          name: 'RangeError',
          message: 'The data size must not be greater than 125 bytes',
        });
        ws.close();
        await closed(ws);
      });

      it('closes with a code and reason on both sides', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const serverClosed = closed(server);
        ws.close(4001, 'see you');
        assert.strictEqual(ws.readyState, WebSocket.CLOSING);
        assert.deepStrictEqual(await closed(ws), [4001, 'see you']);
        assert.strictEqual(ws.readyState, WebSocket.CLOSED);
        assert.deepStrictEqual(await serverClosed, [4001, 'see you']);
      });

      it('gets the code the server closes with; no code means 1005', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        server.close(1001, 'going away');
        assert.deepStrictEqual(await closed(ws), [1001, 'going away']);
        const ws2 = new WebSocket(url(wss));
        const [server2] = await once(wss, 'connection');
        await once(ws2, 'open');
        server2.close();
        assert.deepStrictEqual(await closed(ws2), [1005, '']);
      });

      it('terminate() closes at once with 1006', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const serverClosed = closed(server);
        ws.terminate();
        assert.strictEqual(ws.readyState, WebSocket.CLOSING);
        assert.deepStrictEqual(await closed(ws), [1006, '']);
        assert.deepStrictEqual(await serverClosed, [1006, '']);
      });

      it('validates close() arguments like ws', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        assert.throws(() => ws.close(1005), {
          name: 'TypeError',
          message: 'First argument must be a valid error code number',
        });
        assert.throws(() => ws.close('1000'), { name: 'TypeError' });
        assert.throws(() => ws.close(1000, 'x'.repeat(124)), {
          name: 'RangeError',
          message: 'The message must not be greater than 123 bytes',
        });
        ws.close(1000);
        await closed(ws);
        ws.close();
        ws.terminate();
        assert.strictEqual(ws.readyState, WebSocket.CLOSED);
      });

      it('after close: send calls back with an error and counts bufferedAmount', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        ws.close();
        const err = await new Promise((resolve) => ws.send('late', resolve));
        assert.strictEqual(err.message, 'WebSocket is not open: readyState 2 (CLOSING)');
        assert.strictEqual(ws.bufferedAmount, 4);
        await closed(ws);
        const err2 = await new Promise((resolve) => ws.ping('x', resolve));
        assert.strictEqual(err2.message, 'WebSocket is not open: readyState 3 (CLOSED)');
      });

      it('pause() holds messages until resume()', async function () {
        const ws = new WebSocket(url(wss));
        await once(ws, 'open');
        const server = await serverSide;
        const got = [];
        ws.on('message', (d) => got.push(d.toString()));
        ws.pause();
        assert.strictEqual(ws.isPaused, true);
        server.send('one');
        server.send('two');
        await delay(100);
        assert.deepStrictEqual(got, []);
        ws.resume();
        assert.strictEqual(ws.isPaused, false);
        await delay(50);
        assert.deepStrictEqual(got, ['one', 'two']);
        ws.close();
        await closed(ws);
      });

      it('with allowSynchronousEvents false, emits one message per tick', async function () {
        const ws = new WebSocket(url(wss), { allowSynchronousEvents: false });
        await once(ws, 'open');
        const server = await serverSide;
        // Each listener call marks the tick; a call that finds the mark set ran in the same tick.
        let marked = false;
        const sameTick = [];
        const got = new Promise((resolve) =>
          ws.on('message', (d) => {
            sameTick.push([d.toString(), marked]);
            marked = true;
            setImmediate(() => (marked = false));
            if (sameTick.length === 3) resolve();
          }),
        );
        server.send('a');
        server.send('b');
        server.send('c');
        await got;
        assert.deepStrictEqual(sameTick, [
          ['a', false],
          ['b', false],
          ['c', false],
        ]);
        ws.close();
        await closed(ws);
      });

      it('emits upgrade before open, and reports bufferedAmount', async function () {
        const ws = new WebSocket(url(wss));
        const events = [];
        ws.on('upgrade', (res) => events.push(['upgrade', res.statusCode]));
        ws.on('open', () => events.push(['open', ws.bufferedAmount]));
        await once(ws, 'open');
        assert.deepStrictEqual(events, [
          ['upgrade', 101],
          ['open', 0],
        ]);
        ws.send(Buffer.alloc(1 << 20));
        assert.ok(ws.bufferedAmount <= 1 << 21);
        ws.close();
        await closed(ws);
      });

      it('supports the EventTarget interface', async function () {
        const ws = new WebSocket(url(wss));
        const seen = [];
        ws.onopen = (ev) => seen.push(['open', ev.type, ev.target === ws]);
        ws.addEventListener('message', (ev) => seen.push(['message', ev.data]), { once: true });
        const listener = { handleEvent: (ev) => seen.push(['object', typeof ev.data]) };
        ws.addEventListener('message', listener);
        ws.removeEventListener('message', listener);
        assert.strictEqual(typeof ws.onopen, 'function');
        const done = new Promise((resolve) => {
          ws.onclose = (ev) => {
            seen.push(['close', ev.code, ev.reason, ev.wasClean]);
            resolve();
          };
        });
        await once(ws, 'open');
        const server = await serverSide;
        server.send('hi');
        server.send('again');
        await delay(50);
        ws.close(1000, 'bye');
        await done;
        assert.deepStrictEqual(seen, [
          ['open', 'open', true],
          ['message', 'hi'],
          ['close', 1000, 'bye', true],
        ]);
      });
    });
  }

  describe('handshake failures', function () {
    it('emits unexpected-response, or errors with "Unexpected server response"', async function () {
      const server = http.createServer((req, res) => {
        res.writeHead(400);
        res.end();
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const u = `ws://127.0.0.1:${server.address().port}`;
      const ws = new WebSocket(u);
      const wsClosed = closed(ws);
      const err = await new Promise((resolve) => ws.on('error', resolve));
      assert.strictEqual(err.message, 'Unexpected server response: 400');
      await wsClosed;
      assert.strictEqual(ws.readyState, WebSocket.CLOSED);

      const ws2 = new WebSocket(u);
      const [req, res] = await once(ws2, 'unexpected-response');
      assert.strictEqual(res.statusCode, 400);
      req.destroy();
      ws2.on('error', () => {});
      server.close();
    });

    it('times out with handshakeTimeout', async function () {
      const server = net.createServer(() => {});
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}`, { handshakeTimeout: 100 });
      const wsClosed = closed(ws);
      const err = await new Promise((resolve) => ws.on('error', resolve));
      assert.strictEqual(err.message, 'Opening handshake has timed out');
      await wsClosed;
      server.close();
    });

    it('checks Sec-WebSocket-Accept and the subprotocol answer', async function () {
      const server = http.createServer();
      let mode = 'accept';
      server.on('upgrade', (req, socket) => {
        const key = req.headers['sec-websocket-key'];
        const accept = require('node:crypto')
          .createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
        if (mode === 'accept') lines.push('Sec-WebSocket-Accept: wrong');
        else lines.push(`Sec-WebSocket-Accept: ${accept}`);
        if (mode === 'protocol') lines.push('Sec-WebSocket-Protocol: other');
        if (mode === 'extension') lines.push('Sec-WebSocket-Extensions: permessage-deflate');
        socket.write(lines.join('\r\n') + '\r\n\r\n');
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const u = `ws://127.0.0.1:${server.address().port}`;
      const expect = async (m, protocols, message) => {
        mode = m;
        const ws = new WebSocket(u, protocols);
        const wsClosed = closed(ws);
        const err = await new Promise((resolve) => ws.on('error', resolve));
        assert.strictEqual(err.message, message);
        await wsClosed;
      };
      await expect('accept', [], 'Invalid Sec-WebSocket-Accept header');
      await expect('protocol', ['mine'], 'Server sent an invalid subprotocol');
      await expect('none', ['mine'], 'Server sent no subprotocol');
      await expect('protocol', [], 'Server sent a subprotocol but none was requested');
      await expect(
        'extension',
        [],
        'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
      );
      server.close();
    });

    it('close() while connecting aborts with ws\'s error', async function () {
      const wss = await wsServer();
      const ws = new WebSocket(url(wss));
      const err = new Promise((resolve) => ws.on('error', resolve));
      const wsClosed = closed(ws);
      ws.close();
      assert.strictEqual((await err).message, 'WebSocket was closed before the connection was established');
      await wsClosed;
      await stop(wss);
    });
  });

  describe('options', function () {
    it('sends headers and origin, and the requested subprotocols', async function () {
      const wss = await wsServer({ handleProtocols: (set) => (set.has('b') ? 'b' : false) });
      const seen = new Promise((resolve) => wss.once('connection', (socket, req) => resolve(req)));
      const ws = new WebSocket(url(wss), ['a', 'b'], { headers: { 'X-Token': 't1' }, origin: 'https://o.example' });
      const req = await seen;
      await once(ws, 'open');
      assert.strictEqual(req.headers['x-token'], 't1');
      assert.strictEqual(req.headers.origin, 'https://o.example');
      assert.strictEqual(req.headers['sec-websocket-protocol'], 'a,b');
      assert.strictEqual(ws.protocol, 'b');
      ws.close();
      await closed(ws);
      await stop(wss);
    });

    it('uses createConnection and agent like http.request does', async function () {
      const wss = await wsServer();
      let created = 0;
      const ws = new WebSocket(url(wss), {
        createConnection: (opts) => {
          created++;
          return net.connect(opts.port, opts.host);
        },
      });
      await once(ws, 'open');
      assert.strictEqual(created, 1);
      ws.close();
      await closed(ws);

      const agent = new http.Agent();
      let used = 0;
      const original = agent.createConnection.bind(agent);
      agent.createConnection = (...args) => {
        used++;
        return original(...args);
      };
      const ws2 = new WebSocket(url(wss), { agent });
      await once(ws2, 'open');
      assert.strictEqual(used, 1);
      ws2.close();
      await closed(ws2);
      agent.destroy();
      await stop(wss);
    });

    it('sends Sec-WebSocket-Origin with protocolVersion 8', async function () {
      const wss = await wsServer();
      const seen = new Promise((resolve) => wss.once('connection', (socket, req) => resolve(req.headers)));
      const ws = new WebSocket(url(wss), { protocolVersion: 8, origin: 'https://old.example' });
      const headers = await seen;
      await once(ws, 'open');
      assert.strictEqual(headers['sec-websocket-version'], '8');
      assert.strictEqual(headers['sec-websocket-origin'], 'https://old.example');
      ws.close();
      await closed(ws);
      await stop(wss);
    });

    it('follows redirects with followRedirects and emits redirect', async function () {
      const wss = await wsServer();
      const server = http.createServer((req, res) => {
        res.writeHead(302, { Location: url(wss, '/final') });
        res.end();
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/start`, { followRedirects: true });
      const [redirected] = await once(ws, 'redirect');
      assert.strictEqual(redirected, url(wss, '/final'));
      await once(ws, 'open');
      assert.strictEqual(ws.url, url(wss, '/final'));
      ws.close();
      await closed(ws);

      const capped = new WebSocket(`ws://127.0.0.1:${server.address().port}/`, {
        followRedirects: true,
        maxRedirects: 0,
      });
      const cappedClosed = closed(capped);
      const err = await new Promise((resolve) => capped.on('error', resolve));
      assert.strictEqual(err.message, 'Maximum redirects exceeded');
      await cappedClosed;
      server.close();
      await stop(wss);
    });

    it('connects over a Unix socket with ws+unix:', async function () {
      const sock = path.join(os.tmpdir(), `ferrocast-ws-${process.pid}-${Date.now()}.sock`);
      const server = http.createServer();
      const wss = new WebSocket.WebSocketServer({ server });
      wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo ${d}`)));
      await new Promise((r) => server.listen(sock, r));
      const ws = new WebSocket(`ws+unix://${sock}:/path`);
      await once(ws, 'open');
      ws.send('over unix');
      const [msg] = await once(ws, 'message');
      assert.strictEqual(msg.toString(), 'echo over unix');
      ws.close();
      await closed(ws);
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
      fs.rmSync(sock, { force: true });
    });

    it('enforces maxPayload on what the client receives (1009)', async function () {
      const wss = await wsServer();
      wss.on('connection', (s) => s.send(Buffer.alloc(2048)));
      const ws = new WebSocket(url(wss), { maxPayload: 1024 });
      const wsClosed = closed(ws);
      const err = await new Promise((resolve) => ws.on('error', resolve));
      assert.strictEqual(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      assert.strictEqual(err.message, 'Max payload size exceeded');
      assert.strictEqual((await wsClosed)[0], 1006);
      await stop(wss);
    });

    it('destroys the socket after closeTimeout when the peer never answers the close', async function () {
      const wss = await wsServer();
      wss.on('connection', (s) => {
        // Stop reading: the close frame is never seen, so never answered.
        s._socket.pause();
      });
      const ws = new WebSocket(url(wss), { closeTimeout: 100 });
      await once(ws, 'open');
      ws.close(1000);
      assert.deepStrictEqual(await closed(ws), [1006, '']);
      await stop(wss);
    });

    it('masks every frame it sends from JS with the keys generateMask fills, as ws does', async function () {
      const server = await rawServer(Buffer.alloc(0));
      let n = 0;
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}`, {
        closeTimeout: 100,
        generateMask(mask) {
          n++;
          mask.fill(n === 1 ? 0 : n);
        },
      });
      await once(ws, 'open');
      ws.send('zero');
      ws.send(Buffer.from('two'));
      ws.ping('three');
      const wsClosed = closed(ws);
      ws.close(1000);
      // The raw server never answers the close: the client ends the connection after
      // closeTimeout, and the server has every frame.
      const frames = await server.frames;
      assert.deepStrictEqual(
        frames.map((f) => [f.opcode, f.key.toString('hex'), f.payload.toString('hex')]),
        [
          [1, '00000000', Buffer.from('zero').toString('hex')],
          [2, '02020202', Buffer.from('two').toString('hex')],
          [9, '03030303', Buffer.from('three').toString('hex')],
          [8, '04040404', '03e8'],
        ],
      );
      assert.strictEqual(n, 4);
      await wsClosed;
      server.close();
    });

    it('masks client frames (a raw ferrocast-server check)', async function () {
      const wss = await ferroServer();
      const got = new Promise((resolve) => wss.on('connection', (s) => s.on('message', (d) => resolve(d.toString()))));
      const ws = new WebSocket(url(wss));
      await once(ws, 'open');
      ws.send('masked');
      assert.strictEqual(await got, 'masked');
      ws.close();
      await closed(ws);
      await stop(wss);
    });
  });

  describe('createWebSocketStream', function () {
    it('pipes messages through a Duplex', async function () {
      const wss = await wsServer();
      wss.on('connection', (s) => s.on('message', (d) => s.send(d.toString().toUpperCase())));
      const ws = new WebSocket(url(wss));
      const duplex = WebSocket.createWebSocketStream(ws, { encoding: 'utf8' });
      duplex.write('hello stream');
      const [chunk] = await once(duplex, 'data');
      assert.strictEqual(chunk, 'HELLO STREAM');
      duplex.end();
      await closed(ws);
      await stop(wss);
    });
  });

  describe('server-side WebSocket', function () {
    it('answers a raw client', async function () {
      const wss = await ferroServer();
      wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
      const raw = await rawClient(wss.address().port);
      raw.socket.write(frame(1, 'raw'));
      const [f] = await raw.frames(1);
      assert.strictEqual(f.payload.toString(), 'raw');
      raw.socket.destroy();
      await stop(wss);
    });
  });
});
