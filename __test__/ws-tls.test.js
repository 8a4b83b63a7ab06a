'use strict';

// Sockets with no file descriptor stay in Node and their bytes are pumped through the native
// connection: TLS (https servers, wss:// clients) and in-memory Duplex streams.

const assert = require('node:assert');
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { Duplex } = require('node:stream');
const { once } = require('node:events');

const WebSocket = require('../ws');
const WS = require('ws');
const { frame, parseFrames } = require('./ws-helpers');

const key = fs.readFileSync(path.join(__dirname, 'fixtures', 'ws-key.pem'));
const cert = fs.readFileSync(path.join(__dirname, 'fixtures', 'ws-cert.pem'));

function closed(ws) {
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
}

/** Two connected in-memory Duplex ends. */
function duplexPair() {
  const a = new Duplex({ read() {}, write: (chunk, enc, cb) => (b.push(chunk), cb()), final: (cb) => (b.push(null), cb()) });
  const b = new Duplex({ read() {}, write: (chunk, enc, cb) => (a.push(chunk), cb()), final: (cb) => (a.push(null), cb()) });
  return [a, b];
}

/**
 * Upgrades one end of an in-memory Duplex pair through `local` (noServer + handleUpgrade).
 * Resolves with the server's WebSocket, the client end, and `received()`: what the client end
 * has read so far.
 */
async function upgradeInMemory(local) {
  const [serverEnd, clientEnd] = duplexPair();
  const req = {
    method: 'GET',
    url: '/',
    headers: {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    },
    socket: { remoteAddress: '10.0.0.1' },
  };
  let received = Buffer.alloc(0);
  clientEnd.on('data', (d) => (received = Buffer.concat([received, d])));
  const ws = await new Promise((resolve) => local.handleUpgrade(req, serverEnd, Buffer.alloc(0), resolve));
  return { ws, clientEnd, received: () => received };
}

/** The HTTP response text and the frames after it, in what a raw client read. */
function splitResponse(bytes) {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return { response: text.slice(0, end + 4), frames: parseFrames(bytes.subarray(end + 4)).frames };
}

describe('WebSocket over TLS and in-memory streams', function () {
  let server;
  let wss;
  beforeEach(async function () {
    server = https.createServer({ key, cert });
    wss = new WebSocket.WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      ws.on('message', (d, isBinary) => ws.send(isBinary ? d : `echo ${d}`, { binary: isBinary }));
      ws.send(req.socket.encrypted ? 'secure' : 'plain');
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(async function () {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    await new Promise((r) => server.close(r));
  });

  it('serves wss:// on an https server to a ws client', async function () {
    const client = new WS(`wss://127.0.0.1:${server.address().port}`, { rejectUnauthorized: false });
    const [hello] = await once(client, 'message');
    assert.strictEqual(hello.toString(), 'secure');
    client.send('over tls');
    const [echo] = await once(client, 'message');
    assert.strictEqual(echo.toString(), 'echo over tls');
    const big = Buffer.alloc(200000, 5);
    client.send(big);
    const [back] = await once(client, 'message');
    assert.deepStrictEqual(back, big);
    const done = closed(client);
    client.close(1000, 'tls bye');
    assert.deepStrictEqual(await done, [1000, 'tls bye']);
  });

  it('broadcasts to TLS clients in order, with sends in between', async function () {
    const port = server.address().port;
    const clients = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new WS(`wss://127.0.0.1:${port}`, { rejectUnauthorized: false });
        c.got = [];
        c.on('message', (d) => c.got.push(d.toString()));
        await once(c, 'open');
        return c;
      }),
    );
    while (wss.clients.size < 3 || clients.some((c) => c.got.length < 1)) await new Promise((r) => setTimeout(r, 5));
    const [first] = wss.clients;
    const expected = ['secure'];
    const expectedFirst = ['secure'];
    for (let i = 0; i < 150; i++) {
      wss.broadcast(`b${i}`);
      expected.push(`b${i}`);
      expectedFirst.push(`b${i}`);
      if (i % 50 === 25) {
        first.send(`only${i}`);
        expectedFirst.push(`only${i}`);
      }
    }
    const firstClient = () => clients.find((c) => c.got.includes('only25'));
    while (clients.some((c) => c.got.length < expected.length) || !firstClient() || firstClient().got.length < expectedFirst.length) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const c of clients) assert.deepStrictEqual(c.got, c === firstClient() ? expectedFirst : expected);
    for (const c of clients) c.close();
  });

  it('keeps output in Rust while the TLS socket is full, so maxBackpressure applies', async function () {
    const guarded = new WebSocket.WebSocketServer({ noServer: true, maxBackpressure: 1 << 20, backpressure: 'drop' });
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req, socket, head) => guarded.handleUpgrade(req, socket, head, (ws) => guarded.emit('connection', ws)));
    const conn = once(guarded, 'connection');
    const tls = require('node:tls');
    const raw = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(raw, 'secureConnect');
    raw.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [ws] = await conn;
    raw.pause();
    let dropped = 0;
    ws.on('dropped', (n) => (dropped += n));
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 600 && dropped === 0; i++) {
      ws.send(chunk);
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    const t0 = Date.now();
    while (dropped === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(dropped > 0, 'the policy never applied');
    assert.ok(ws._transport.writableLength < 64 << 20, `Node buffered ${ws._transport.writableLength} bytes`);
    raw.destroy();
    const closedCode = await new Promise((resolve) => ws.on('close', resolve));
    assert.strictEqual(closedCode, 1006);
    await new Promise((r) => guarded.close(r));
  });

  it('connects a ferrocast client with wss:// and ca', async function () {
    const client = new WebSocket(`wss://127.0.0.1:${server.address().port}`, { ca: cert });
    const [hello] = await once(client, 'message');
    assert.strictEqual(hello.toString(), 'secure');
    client.send('ferro over tls');
    const [echo] = await once(client, 'message');
    assert.strictEqual(echo.toString(), 'echo ferro over tls');
    const done = closed(client);
    client.close(4002);
    assert.deepStrictEqual(await done, [4002, '']);
  });

  it('rejects an untrusted certificate on the client like ws (an error, then close 1006)', async function () {
    const client = new WebSocket(`wss://127.0.0.1:${server.address().port}`);
    const done = closed(client);
    const err = await new Promise((resolve) => client.on('error', resolve));
    assert.match(err.code, /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
    assert.deepStrictEqual(await done, [1006, '']);
  });

  it('handles an upgrade on an in-memory Duplex (noServer + handleUpgrade)', async function () {
    const local = new WebSocket.WebSocketServer({ noServer: true });
    const { ws, clientEnd, received } = await upgradeInMemory(local);
    const message = new Promise((resolve) => ws.on('message', (d) => resolve(d.toString())));
    clientEnd.write(frame(1, 'in memory'));
    assert.strictEqual(await message, 'in memory');
    ws.send('reply');
    const t0 = Date.now();
    while (!received().includes('reply') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    const { response, frames } = splitResponse(received());
    assert.match(response, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.strictEqual(frames[0].payload.toString(), 'reply');
    const done = closed(ws);
    ws.terminate();
    assert.deepStrictEqual(await done, [1006, '']);
    await new Promise((r) => local.close(r));
  });

  it("answers the last message of an in-memory Duplex peer that ends, then ends its side", async function () {
    const local = new WebSocket.WebSocketServer({ noServer: true });
    const { ws, clientEnd, received } = await upgradeInMemory(local);
    const clientEnded = once(clientEnd, 'end');
    ws.on('message', (d) => ws.send(`echo ${d}`));
    const done = closed(ws);
    // A message, then the end of the peer's side: the answer still goes out, then this side ends.
    clientEnd.end(frame(1, 'last'));
    await clientEnded;
    const { frames } = splitResponse(received());
    assert.deepStrictEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      [[1, 'echo last']],
    );
    assert.deepStrictEqual(await done, [1006, '']);
    await new Promise((r) => local.close(r));
  });
});
