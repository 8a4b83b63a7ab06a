'use strict';

// Closing and ending in the order ws keeps them: what 'message' and 'open' listeners send goes
// out before the answer to a close frame, or the end of a peer's FIN, that followed; sends
// waiting behind Blobs go out in order before a close() made meanwhile, or fail with ws's
// errors (a terminated socket, an unreadable Blob); callbacks of writes cut off by terminate()
// get what Node's socket gives ws; a createWebSocketStream Duplex finishes before its
// WebSocket's 'close'. Checked with raw sockets where the order of frames on the wire is the
// point.

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');

const WebSocket = require('../ws');
const { frame, rawClient, rawServer, closeInfo } = require('./ws-helpers');

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

/** A ferrocast client of `wss`, once open. */
async function openClient(wss) {
  const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
  await once(ws, 'open');
  return ws;
}

/** A raw TCP client of `wss` (see rawClient) and the server's WebSocket for it. */
async function openRaw(wss) {
  const conn = once(wss, 'connection');
  const raw = await rawClient(wss.address().port);
  const [ws] = await conn;
  return [raw, ws];
}

/** Resolves with [code, reason] of the 'close' event, ignoring 'error'. */
function closed(ws) {
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
}

/** Resolves with [[text, isBinary] of each message, close code] of the server's first client. */
function receivedUntilClose(wss) {
  return new Promise((resolve) => {
    wss.on('connection', (s) => {
      const msgs = [];
      s.on('message', (d, isBinary) => msgs.push([d.toString(), isBinary]));
      s.on('close', (code) => resolve([msgs, code]));
    });
  });
}

const closePayload = (code, reason) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

describe('ferrocast/ws closing and ending order', function () {
  it("sends what 'message' listeners send before answering the close frame that followed", async function () {
    const wss = await listen();
    const [raw, ws] = await openRaw(wss);
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

  it("sends what 'message' listeners send before ending after a peer's FIN that followed", async function () {
    const wss = await listen();
    const [raw, ws] = await openRaw(wss);
    const callbacks = [];
    ws.on('message', (data) => ws.send(`echo ${data}`, (...args) => callbacks.push(args)));
    const serverClosed = closed(ws);
    // A message, then FIN: this side of the TCP connection stays open for the answer.
    raw.socket.end(frame(1, 'last'));
    await raw.ended();
    const frames = await raw.frames(1);
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      [[1, 'echo last']],
    );
    assert.deepStrictEqual(await serverClosed, [1006, '']);
    assert.deepStrictEqual(callbacks, [[null]]);
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
    const got = receivedUntilClose(wss);
    const ws = await openClient(wss);
    const callbacks = [];
    ws.send(new Blob(['blob']), (...args) => callbacks.push(['blob', ...args]));
    ws.send('after', (...args) => callbacks.push(['after', ...args]));
    ws.close(1000);
    assert.strictEqual(ws.readyState, WebSocket.CLOSING);
    assert.deepStrictEqual(await closed(ws), [1000, '']);
    assert.deepStrictEqual(await got, [
      [
        ['blob', true],
        ['after', false],
      ],
      1000,
    ]);
    assert.deepStrictEqual(callbacks, [
      ['blob', null],
      ['after', null],
    ]);
    await stop(wss);
  });

  it('fails the sends waiting behind a Blob with ws\'s error when terminate() comes first', async function () {
    const wss = await listen();
    const ws = await openClient(wss);
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

  it("sends what an 'open' listener sends when the server's FIN came with the handshake", async function () {
    const server = await rawServer(Buffer.alloc(0), { end: true });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
    const sent = new Promise((resolve) => {
      ws.on('open', () => {
        assert.strictEqual(ws.readyState, WebSocket.OPEN);
        ws.send('hi', (...args) => resolve(args));
      });
    });
    const [code] = await closed(ws);
    assert.deepStrictEqual(await sent, [null]);
    assert.strictEqual(code, 1006);
    const frames = await server.frames;
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      [[1, 'hi']],
    );
    server.close();
  });

  it('sends several Blobs in order, then the close frame of a close() made while they are read', async function () {
    const wss = await listen();
    const got = receivedUntilClose(wss);
    const ws = await openClient(wss);
    ws.send(new Blob(['foo']));
    ws.send(new Blob(['bar']));
    ws.send('baz');
    ws.send(new Blob(['qux']));
    ws.close();
    assert.deepStrictEqual(await closed(ws), [1005, '']);
    assert.deepStrictEqual(await got, [
      [
        ['foo', true],
        ['bar', true],
        ['baz', false],
        ['qux', true],
      ],
      1005,
    ]);
    await stop(wss);
  });

  it("fails a Blob that cannot be read like ws: its callback and those behind it, then 'error', close 1006", async function () {
    const wss = await listen();
    const received = [];
    wss.on('connection', (s) => s.on('message', (d) => received.push(d.toString())));
    const file = path.join(os.tmpdir(), `ferrocast-blob-${process.pid}-${Date.now()}`);
    fs.writeFileSync(file, 'x'.repeat(64));
    const blob = await fs.openAsBlob(file);
    // A file Blob whose file changed after it was made cannot be read (NotReadableError).
    fs.writeFileSync(file, 'y'.repeat(32));
    const ws = await openClient(wss);
    const events = [];
    ws.send(blob, (err) => events.push(['blob', err && err.name, ws.readyState]));
    ws.send('after', (err) => events.push(['after', err && err.name, ws.readyState]));
    ws.on('error', (err) => events.push(['error', err.name, ws.readyState]));
    const [code] = await closed(ws);
    fs.rmSync(file, { force: true });
    assert.strictEqual(code, 1006);
    assert.deepStrictEqual(events, [
      ['blob', 'NotReadableError', WebSocket.OPEN],
      ['after', 'NotReadableError', WebSocket.OPEN],
      ['error', 'NotReadableError', WebSocket.CLOSING],
    ]);
    assert.deepStrictEqual(received, []);
    await stop(wss);
  });

  it('gives the write in progress null and the ones behind it ERR_STREAM_DESTROYED on terminate()', async function () {
    // A peer that never reads: the first 16 MiB message fills the socket, the others wait.
    const server = await rawServer(Buffer.alloc(0), { read: false });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
    await once(ws, 'open');
    const results = [];
    const all = new Promise((resolve) => {
      for (let i = 0; i < 3; i++) {
        ws.send(Buffer.alloc(16 * 1024 * 1024), (err) => {
          results.push(err === null ? null : [err.code, err.message]);
          if (results.length === 3) resolve();
        });
      }
    });
    assert.ok(ws.bufferedAmount > 0);
    const wsClosed = closed(ws);
    ws.terminate();
    await all;
    const destroyed = ['ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'];
    assert.deepStrictEqual(results, [null, destroyed, destroyed]);
    assert.strictEqual((await wsClosed)[0], 1006);
    server.close();
  });

  it('closes after a protocol error behind what open listeners sent, a Blob included', async function () {
    // An invalid opcode right behind the handshake: Rust reads it before JS runs 'open'.
    const server = await rawServer(frame(3, 'x', { mask: false }));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
    const errors = [];
    ws.on('error', (err) => errors.push(err.code));
    ws.on('open', () => {
      ws.send('a');
      ws.send(new Blob(['blob']));
      ws.send('after');
    });
    const [code] = await closed(ws);
    const frames = await server.frames;
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.opcode === 8 ? closeInfo(f).code : f.payload.toString()]),
      [
        [1, 'a'],
        [2, 'blob'],
        [1, 'after'],
        [8, 1002],
      ],
    );
    assert.deepStrictEqual(errors, ['WS_ERR_INVALID_OPCODE']);
    assert.strictEqual(code, 1006);
    server.close();
  });

  it('counts what waits behind a Blob in bufferedAmount, as ws counts its sender queue', async function () {
    const server = await rawServer(Buffer.alloc(0));
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
    await once(ws, 'open');
    const amounts = [];
    ws.send(new Blob(['foo']));
    amounts.push(ws.bufferedAmount);
    ws.send('bär');
    amounts.push(ws.bufferedAmount);
    ws.ping(Buffer.alloc(10));
    amounts.push(ws.bufferedAmount);
    await new Promise((resolve) => ws.send('last', resolve));
    amounts.push(ws.bufferedAmount);
    assert.deepStrictEqual(amounts, [3, 7, 17, 0]);
    ws.terminate();
    server.close();
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
