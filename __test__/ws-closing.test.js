'use strict';

// The closing handshake in the order ws keeps it: what 'message' and 'open' listeners send
// goes out before the answer to a close frame that followed; sends waiting behind a Blob go
// out before a close() made meanwhile, or fail with ws's error when the socket is terminated;
// a createWebSocketStream Duplex finishes before its WebSocket's 'close'. Checked with raw
// sockets where the order of frames on the wire is the point.

const assert = require('node:assert');
const crypto = require('node:crypto');
const net = require('node:net');
const { once } = require('node:events');

const WebSocket = require('../ws');
const { frame, parseFrames, rawClient, closeInfo, GUID } = require('./ws-helpers');

const { WebSocketServer } = WebSocket;

function listen() {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => resolve(wss));
  });
}

function stop(wss) {
  return new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  });
}

/** Resolves with [code, reason] of the 'close' event, ignoring 'error'. */
function closed(ws) {
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
}

const closePayload = (code, reason) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

/**
 * A raw WebSocket server for one client: it answers the handshake, writing `after` in the same
 * packet, and collects the client's frames (unmasked) until the client ends the connection.
 */
async function rawServer(after) {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const frames = new Promise((resolve) => {
    server.once('connection', (socket) => {
      let buf = Buffer.alloc(0);
      let open = false;
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!open) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString())[1];
          const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
          const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
          socket.write(Buffer.concat([Buffer.from(head), after]));
          buf = buf.subarray(end + 4);
          open = true;
        }
      });
      socket.on('end', () => {
        socket.end();
        resolve(parseFrames(buf).frames);
      });
      socket.on('error', () => {});
    });
  });
  return { port: server.address().port, frames, close: () => server.close() };
}

describe('ferrocast/ws closing handshake order', function () {
  it("sends what 'message' listeners send before answering the close frame that followed", async function () {
    const wss = await listen();
    const conn = once(wss, 'connection');
    const raw = await rawClient(wss.address().port);
    const [ws] = await conn;
    const callbacks = [];
    ws.on('message', (data) => {
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      ws.send(`echo ${data}`, (...args) => callbacks.push(args));
    });
    const serverClosed = closed(ws);
    // Two messages and the close frame in one packet: Rust reads all three at once.
    raw.socket.write(Buffer.concat([frame(1, 'a'), frame(1, 'b'), frame(8, closePayload(1000, 'bye'))]));
    const frames = await raw.frames(3);
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.opcode === 8 ? closeInfo(f) : f.payload.toString()]),
      [
        [1, 'echo a'],
        [1, 'echo b'],
        [8, { code: 1000, reason: 'bye' }],
      ],
    );
    await raw.ended();
    assert.deepStrictEqual(await serverClosed, [1000, 'bye']);
    assert.deepStrictEqual(callbacks, [[null], [null]]);
    await stop(wss);
  });

  it("sends what an 'open' listener sends before answering a close frame that came with the handshake", async function () {
    const server = await rawServer(frame(8, closePayload(1001, 'going'), { mask: false }));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
    const sent = new Promise((resolve) => ws.on('open', () => ws.send('hi', (...args) => resolve(args))));
    const [code, reason] = await closed(ws);
    assert.deepStrictEqual(await sent, [null]);
    assert.deepStrictEqual([code, reason], [1001, 'going']);
    const frames = await server.frames;
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.masked, f.opcode === 8 ? closeInfo(f) : f.payload.toString()]),
      [
        [1, true, 'hi'],
        [8, true, { code: 1001, reason: 'going' }],
      ],
    );
    server.close();
  });

  it('sends what waits behind a Blob before the close frame of a close() made meanwhile', async function () {
    const wss = await listen();
    const got = new Promise((resolve) => {
      wss.on('connection', (s) => {
        const msgs = [];
        s.on('message', (d) => msgs.push(d.toString()));
        s.on('close', (code) => resolve([msgs, code]));
      });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    await once(ws, 'open');
    const callbacks = [];
    ws.send(new Blob(['blob']), (...args) => callbacks.push(['blob', ...args]));
    ws.send('after', (...args) => callbacks.push(['after', ...args]));
    ws.close(1000);
    assert.strictEqual(ws.readyState, WebSocket.CLOSING);
    assert.deepStrictEqual(await closed(ws), [1000, '']);
    assert.deepStrictEqual(await got, [['blob', 'after'], 1000]);
    assert.deepStrictEqual(callbacks, [
      ['blob', null],
      ['after', null],
    ]);
    await stop(wss);
  });

  it('fails the sends waiting behind a Blob with ws\'s error when terminate() comes first', async function () {
    const wss = await listen();
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    await once(ws, 'open');
    const errors = [];
    const both = new Promise((resolve) => {
      const cb = (err) => {
        errors.push([err && err.message, ws.readyState]);
        if (errors.length === 2) resolve();
      };
      ws.send(new Blob(['foo']), cb);
      ws.send('bar');
      ws.ping('baz', cb);
    });
    ws.terminate();
    await both;
    const message = 'The socket was closed while the blob was being read';
    assert.deepStrictEqual(errors, [
      [message, WebSocket.CLOSING],
      [message, WebSocket.CLOSING],
    ]);
    await closed(ws);
    await stop(wss);
  });

  it("createWebSocketStream: end() finishes the Duplex before the WebSocket's 'close', then destroys it", async function () {
    const wss = await listen();
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    const duplex = WebSocket.createWebSocketStream(ws);
    const order = [];
    ws.on('close', (code) => order.push(`ws close ${code}`));
    for (const e of ['finish', 'end', 'close']) duplex.on(e, () => order.push(`duplex ${e}`));
    duplex.resume();
    duplex.end();
    await once(duplex, 'close');
    assert.deepStrictEqual(order, ['duplex finish', 'ws close 1005', 'duplex end', 'duplex close']);
    assert.strictEqual(duplex.destroyed, true);
    await stop(wss);
  });

  it('defines the on-event attributes as configurable accessors, as ws does', function () {
    for (const type of ['open', 'error', 'close', 'message']) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, `on${type}`);
      assert.strictEqual(d.configurable, true, `on${type}`);
      assert.strictEqual(d.enumerable, true, `on${type}`);
      assert.strictEqual(typeof d.get, 'function');
      assert.strictEqual(typeof d.set, 'function');
    }
  });
});
