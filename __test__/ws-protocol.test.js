'use strict';

// The wire protocol of ferrocast/ws servers, checked with raw sockets: bad frames get ws's
// error (message, code, RangeError or Error) and the matching close code, and the server
// keeps serving everyone else.

const assert = require('node:assert');
const { once } = require('node:events');

const WebSocket = require('../ws');
const WS = require('ws');
const { frame, rawClient, closeInfo, delay } = require('./ws-helpers');

const { WebSocketServer } = WebSocket;

function listen(options = {}) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options }, () => resolve(wss));
  });
}

function closeServer(wss) {
  return new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  });
}

/** Connects a raw client, sends `bytes`, and collects what the server does about it. */
async function misbehave(wss, bytes) {
  const conn = once(wss, 'connection');
  const raw = await rawClient(wss.address().port);
  const [ws] = await conn;
  const errors = [];
  ws.on('error', (e) => errors.push(e));
  // Not events.once: it would reject on the 'error' event this test expects.
  const closed = new Promise((resolve) => ws.on('close', (...args) => resolve(args)));
  raw.socket.write(bytes);
  const [code, reason] = await closed;
  const frames = await raw.frames(1);
  raw.socket.destroy();
  return { ws, errors, code, reason, frames };
}

describe('WebSocket protocol (server side)', function () {
  let wss;
  beforeEach(async function () {
    wss = await listen({ maxPayload: 1024 });
  });
  afterEach(function () {
    return closeServer(wss);
  });

  const cases = [
    [
      'an unmasked client frame',
      () => frame(1, 'hi', { mask: false }),
      RangeError,
      'WS_ERR_EXPECTED_MASK',
      'Invalid WebSocket frame: MASK must be set',
      1002,
    ],
    [
      'a message over maxPayload',
      () => frame(2, Buffer.alloc(1025)),
      RangeError,
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      'Max payload size exceeded',
      1009,
    ],
    [
      'fragments adding up to more than maxPayload',
      () => Buffer.concat([frame(2, Buffer.alloc(1000), { fin: false }), frame(0, Buffer.alloc(100))]),
      RangeError,
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      'Max payload size exceeded',
      1009,
    ],
    [
      'invalid UTF-8 in a text message',
      () => frame(1, Buffer.from([0xce, 0xba, 0xe1, 0xbd])),
      Error,
      'WS_ERR_INVALID_UTF8',
      'Invalid WebSocket frame: invalid UTF-8 sequence',
      1007,
    ],
    [
      'an unknown opcode',
      () => frame(3, 'x'),
      RangeError,
      'WS_ERR_INVALID_OPCODE',
      'Invalid WebSocket frame: invalid opcode 3',
      1002,
    ],
    [
      'a continuation with nothing to continue',
      () => frame(0, 'x'),
      RangeError,
      'WS_ERR_INVALID_OPCODE',
      'Invalid WebSocket frame: invalid opcode 0',
      1002,
    ],
    [
      'RSV1 without an extension',
      () => frame(1, 'x', { rsv: 0x40 }),
      RangeError,
      'WS_ERR_UNEXPECTED_RSV_1',
      'Invalid WebSocket frame: RSV1 must be clear',
      1002,
    ],
    [
      'RSV2 set',
      () => frame(1, 'x', { rsv: 0x20 }),
      RangeError,
      'WS_ERR_UNEXPECTED_RSV_2_3',
      'Invalid WebSocket frame: RSV2 and RSV3 must be clear',
      1002,
    ],
    [
      'a fragmented ping',
      () => frame(9, 'x', { fin: false }),
      RangeError,
      'WS_ERR_EXPECTED_FIN',
      'Invalid WebSocket frame: FIN must be set',
      1002,
    ],
    [
      'a control frame over 125 bytes',
      () => frame(9, Buffer.alloc(126)),
      RangeError,
      'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
      'Invalid WebSocket frame: invalid payload length 126',
      1002,
    ],
    [
      'a close frame with an invalid code',
      () => frame(8, Buffer.from([0x03, 0xed])),
      RangeError,
      'WS_ERR_INVALID_CLOSE_CODE',
      'Invalid WebSocket frame: invalid status code 1005',
      1002,
    ],
    [
      'a new message inside a fragmented one',
      () => Buffer.concat([frame(1, 'a', { fin: false }), frame(1, 'b')]),
      RangeError,
      'WS_ERR_INVALID_OPCODE',
      'Invalid WebSocket frame: invalid opcode 1',
      1002,
    ],
  ];

  for (const [what, bytes, Ctor, code, message, status] of cases) {
    it(`answers ${what} with ${status} and emits ${code}`, async function () {
      const r = await misbehave(wss, bytes());
      assert.strictEqual(r.errors.length, 1);
      const err = r.errors[0];
      assert.strictEqual(err.constructor, Ctor);
      assert.strictEqual(err.code, code);
      assert.strictEqual(err.message, message);
      assert.strictEqual(r.frames[0].opcode, 8);
      assert.strictEqual(closeInfo(r.frames[0]).code, status);
      // No close frame came from the peer, so the close is abnormal on this side (as in ws).
      assert.strictEqual(r.code, 1006);
    });
  }

  it('keeps serving other connections while one misbehaves', async function () {
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
    const good = new WS(`ws://127.0.0.1:${wss.address().port}`);
    await once(good, 'open');
    wss.once('connection', (ws) => ws.on('error', () => {}));
    const bad = await rawClient(wss.address().port);
    bad.socket.write(frame(1, 'x', { mask: false }));
    await bad.frames(1);
    good.send('still fine');
    const [msg] = await once(good, 'message');
    assert.strictEqual(msg.toString(), 'still fine');
    bad.socket.destroy();
    good.close();
  });

  it('reassembles fragments around interleaved control frames', async function () {
    const conn = once(wss, 'connection');
    const raw = await rawClient(wss.address().port);
    const [ws] = await conn;
    const events = [];
    ws.on('message', (d, isBinary) => events.push(['message', d.toString(), isBinary]));
    ws.on('ping', (d) => events.push(['ping', d.toString()]));
    raw.socket.write(frame(1, 'Hel', { fin: false }));
    raw.socket.write(frame(9, 'beat'));
    raw.socket.write(frame(0, 'lo, ', { fin: false }));
    raw.socket.write(frame(0, 'world'));
    const frames = await raw.frames(1);
    assert.strictEqual(frames[0].opcode, 10, 'an automatic pong');
    assert.strictEqual(frames[0].payload.toString(), 'beat');
    await delay(50);
    assert.deepStrictEqual(events, [
      ['ping', 'beat'],
      ['message', 'Hello, world', false],
    ]);
    raw.socket.destroy();
  });

  it('accepts a message split across many tiny writes', async function () {
    const conn = once(wss, 'connection');
    const raw = await rawClient(wss.address().port);
    const [ws] = await conn;
    const got = once(ws, 'message');
    const bytes = frame(2, Buffer.alloc(600, 7));
    for (let i = 0; i < bytes.length; i += 50) {
      raw.socket.write(bytes.subarray(i, i + 50));
      await delay(1);
    }
    const [data, isBinary] = await got;
    assert.ok(isBinary);
    assert.deepStrictEqual(data, Buffer.alloc(600, 7));
    raw.socket.destroy();
  });

  it('answers a close frame with the same code and reason, then ends the TCP connection', async function () {
    const conn = once(wss, 'connection');
    const raw = await rawClient(wss.address().port);
    const [ws] = await conn;
    const closed = once(ws, 'close');
    const payload = Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('done')]);
    raw.socket.write(frame(8, payload));
    const [f] = await raw.frames(1);
    assert.deepStrictEqual(closeInfo(f), { code: 4000, reason: 'done' });
    await raw.ended();
    const [code, reason] = await closed;
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason.toString(), 'done');
  });

  it('honours skipUTF8Validation', async function () {
    const lax = await listen({ skipUTF8Validation: true });
    const conn = once(lax, 'connection');
    const raw = await rawClient(lax.address().port);
    const [ws] = await conn;
    const got = once(ws, 'message');
    raw.socket.write(frame(1, Buffer.from([0xff, 0xfe])));
    const [data, isBinary] = await got;
    assert.strictEqual(isBinary, false);
    assert.deepStrictEqual(data, Buffer.from([0xff, 0xfe]));
    raw.socket.destroy();
    await closeServer(lax);
  });

  it('with autoPong false, emits ping but sends no pong', async function () {
    const quiet = await listen({ autoPong: false });
    const conn = once(quiet, 'connection');
    const raw = await rawClient(quiet.address().port);
    const [ws] = await conn;
    const pinged = once(ws, 'ping');
    raw.socket.write(frame(9, 'x'));
    assert.strictEqual((await pinged)[0].toString(), 'x');
    ws.send('after');
    const [f] = await raw.frames(1);
    assert.strictEqual(f.opcode, 1, 'the first frame is the message, not a pong');
    raw.socket.destroy();
    await closeServer(quiet);
  });

  it('terminates a peer whose automatic pongs pile up past maxPendingAutoPongs (0: no limit)', async function () {
    const outcomes = [];
    for (const maxPendingAutoPongs of [5, 0]) {
      const server = await listen({ maxPendingAutoPongs });
      const conn = once(server, 'connection');
      const raw = await rawClient(server.address().port);
      const [ws] = await conn;
      // The peer stops reading, and a large message fills the socket: pongs have to queue.
      raw.socket.pause();
      ws.send(Buffer.alloc(8 * 1024 * 1024));
      assert.ok(ws.bufferedAmount > 0);
      const pings = once(ws, 'ping');
      const wsClosed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
      raw.socket.write(Buffer.concat(Array.from({ length: 10 }, () => frame(9, 'p'))));
      await pings;
      const code = await Promise.race([wsClosed, delay(300).then(() => 'open')]);
      outcomes.push([maxPendingAutoPongs, code]);
      raw.socket.destroy();
      await closeServer(server);
    }
    assert.deepStrictEqual(outcomes, [
      [5, 1006],
      [0, 'open'],
    ]);
  });

  it('answers a frame spread over more than maxBufferedChunks reads with 1008 and ws\'s RangeError', async function () {
    const strict = await listen({ maxBufferedChunks: 3 });
    const conn = once(strict, 'connection');
    const raw = await rawClient(strict.address().port);
    const [ws] = await conn;
    const errors = [];
    ws.on('error', (e) => errors.push(e));
    const wsClosed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    const bytes = frame(2, Buffer.alloc(200, 1));
    // Eight writes far enough apart to be read one by one.
    for (let i = 0; i < 8 && !raw.state.ended; i++) {
      raw.socket.write(bytes.subarray(i * 26, (i + 1) * 26));
      await delay(20);
    }
    const [f] = await raw.frames(1);
    assert.deepStrictEqual(closeInfo(f), { code: 1008, reason: '' });
    assert.strictEqual(await wsClosed, 1006);
    assert.strictEqual(errors.length, 1);
    assert.ok(errors[0] instanceof RangeError);
    assert.strictEqual(errors[0].code, 'WS_ERR_TOO_MANY_BUFFERED_PARTS');
    assert.strictEqual(errors[0].message, 'Too many buffered chunks');
    raw.socket.destroy();
    await closeServer(strict);
  });

  it('sends server frames unmasked, with the right length encodings', async function () {
    const conn = once(wss, 'connection');
    const raw = await rawClient(wss.address().port);
    const [ws] = await conn;
    ws.send(Buffer.alloc(125, 1));
    ws.send(Buffer.alloc(126, 2));
    ws.send(Buffer.alloc(70000, 3));
    const frames = await raw.frames(3);
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.payload.length, f.payload[0]]),
      [
        [2, 125, 1],
        [2, 126, 2],
        [2, 70000, 3],
      ],
    );
    raw.socket.destroy();
  });
});
