'use strict';

// Native fan-out on ferrocast/ws servers: broadcast(), topic pub/sub, per-connection
// backpressure policies with a deliberately stalled client, idleTimeout heartbeats, stats().

const assert = require('node:assert');
const { once } = require('node:events');

const WebSocket = require('../ws');
const WS = require('ws');
const { rawClient, closeInfo, delay } = require('./ws-helpers');

const { WebSocketServer } = WebSocket;

function listen(options = {}) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options }, () => resolve(wss));
  });
}

function stop(wss) {
  return new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  });
}

/** Opens `n` ws clients; resolves with [{ client, server }]. */
async function connect(wss, n) {
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const server = once(wss, 'connection');
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`);
    await once(client, 'open');
    pairs.push({ client, server: (await server)[0] });
  }
  return pairs;
}

function take(ws, n) {
  return new Promise((resolve) => {
    const got = [];
    ws.on('message', function onMessage(d, isBinary) {
      got.push(isBinary ? `bin:${d}` : d.toString());
      if (got.length === n) {
        ws.removeListener('message', onMessage);
        resolve(got);
      }
    });
  });
}

async function until(pred, ms = 10000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached in time');
    await delay(10);
  }
}

describe('WebSocketServer fan-out', function () {
  let wss;
  afterEach(function () {
    return stop(wss);
  });

  describe('#broadcast', function () {
    it('reaches every open client once, and returns how many', async function () {
      wss = await listen();
      const pairs = await connect(wss, 5);
      const got = Promise.all(pairs.map((p) => take(p.client, 2)));
      assert.strictEqual(wss.broadcast('hello all'), 5);
      assert.strictEqual(wss.broadcast(Buffer.from('raw')), 5);
      for (const msgs of await got) assert.deepStrictEqual(msgs, ['hello all', 'bin:raw']);
      for (const p of pairs) p.client.close();
    });

    it('keeps order with the other sends on each socket', async function () {
      wss = await listen();
      const [a, b] = await connect(wss, 2);
      const gotA = take(a.client, 300);
      const gotB = take(b.client, 100);
      for (let i = 0; i < 100; i++) {
        a.server.send(`a${i}`);
        wss.broadcast(`all${i}`);
        a.server.send(`a${i}'`);
      }
      const expectedA = [];
      for (let i = 0; i < 100; i++) expectedA.push(`a${i}`, `all${i}`, `a${i}'`);
      assert.deepStrictEqual(await gotA, expectedA);
      assert.deepStrictEqual(await gotB, Array.from({ length: 100 }, (_, i) => `all${i}`));
      a.client.close();
      b.client.close();
    });

    it('delivers every frame in order to 600 clients, across passes, topics and except', async function () {
      this.timeout(30000);
      wss = await listen();
      const port = wss.address().port;
      const servers = [];
      wss.on('connection', (ws) => {
        ws.send(`id:${servers.length}`);
        servers.push(ws);
      });
      const clients = await Promise.all(
        Array.from({ length: 600 }, async () => {
          const c = new WS(`ws://127.0.0.1:${port}`);
          c.got = [];
          c.on('message', (d) => c.got.push(d.toString()));
          await once(c, 'open');
          return c;
        }),
      );
      await until(() => servers.length === 600 && clients.every((c) => c.got.length === 1));
      const odd = servers.filter((_, i) => i % 2 === 1);
      for (const s of odd) s.subscribe('odd');
      const skipped = servers[7];
      const expected = servers.map(() => []);
      const record = (msg, who) => {
        for (const s of who) expected[servers.indexOf(s)].push(msg);
      };
      // Bursts (several frames per pass, joined into one write), with a publish and an except
      // in between (passes that cannot be joined), over more connections than one pass slice.
      for (let i = 0; i < 120; i++) {
        wss.broadcast(`b${i}`);
        record(`b${i}`, servers);
        if (i % 40 === 20) {
          wss.publish('odd', `p${i}`);
          record(`p${i}`, odd);
          wss.broadcast(`x${i}`, { except: skipped });
          record(`x${i}`, servers.filter((s) => s !== skipped));
        }
        if (i % 30 === 29) await delay(5);
        // Frames logged while a pass runs, which it takes to the sockets it has not reached.
        else if (i >= 60 && i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const want = (c) => expected[Number(c.got[0].slice(3))];
      await until(() => clients.every((c) => c.got.length - 1 >= want(c).length));
      await delay(50);
      for (const c of clients) assert.deepStrictEqual(c.got.slice(1), want(c));
      // Every delivery counted once (the 'id:' sends too), however the passes joined frames.
      const deliveries = expected.reduce((n, e) => n + e.length, 0) + 600;
      assert.strictEqual(wss.stats().messagesOut, deliveries);
      for (const c of clients) c.close();
    });

    it('skips clients in except and honours binary', async function () {
      wss = await listen();
      const [a, b, c] = await connect(wss, 3);
      let aGot = 0;
      a.client.on('message', () => aGot++);
      const bGot = take(b.client, 1);
      const cGot = take(c.client, 1);
      assert.strictEqual(wss.broadcast('not for a', { except: a.server, binary: true }), 2);
      assert.deepStrictEqual(await bGot, ['bin:not for a']);
      assert.deepStrictEqual(await cGot, ['bin:not for a']);
      assert.strictEqual(wss.broadcast('nobody', { except: [a.server, b.server, c.server] }), 0);
      await delay(50);
      assert.strictEqual(aGot, 0);
      for (const p of [a, b, c]) p.client.close();
    });

    it('skips clients that are closing', async function () {
      wss = await listen();
      const [a, b] = await connect(wss, 2);
      const aGot = [];
      a.client.on('message', (d) => aGot.push(d.toString()));
      const aClosed = once(a.client, 'close');
      a.server.send('before');
      a.server.close();
      wss.broadcast('after');
      assert.deepStrictEqual(await take(b.client, 1), ['after']);
      await aClosed;
      assert.deepStrictEqual(aGot, ['before']);
      b.client.close();
    });

    it('keeps publish and subscribe in call order', async function () {
      wss = await listen();
      const [a, b] = await connect(wss, 2);
      // b stays subscribed, so every publish below is pending while a (un)subscribes.
      b.server.subscribe('t');
      const got = take(a.client, 2);
      const bGot = take(b.client, 3);
      wss.publish('t', 'before subscribing');
      a.server.subscribe('t');
      wss.publish('t', 'subscribed');
      a.server.unsubscribe('t');
      wss.publish('t', 'after unsubscribing');
      a.server.send('end');
      assert.deepStrictEqual(await got, ['subscribed', 'end']);
      assert.deepStrictEqual(await bGot, ['before subscribing', 'subscribed', 'after unsubscribing']);
      a.client.close();
      b.client.close();
    });
  });

  describe('topics', function () {
    it('subscribe, publish, unsubscribe, numSubscribers, topics', async function () {
      wss = await listen();
      const [a, b, c] = await connect(wss, 3);
      assert.strictEqual(a.server.subscribe('news'), true);
      assert.strictEqual(a.server.subscribe('news'), false);
      assert.strictEqual(b.server.subscribe('news'), true);
      assert.strictEqual(b.server.subscribe('sport'), true);
      assert.strictEqual(wss.numSubscribers('news'), 2);
      assert.strictEqual(wss.numSubscribers('none'), 0);
      assert.ok(a.server.isSubscribed('news'));
      assert.ok(!c.server.isSubscribed('news'));
      assert.deepStrictEqual(b.server.topics.sort(), ['news', 'sport']);

      let cGot = 0;
      c.client.on('message', () => cGot++);
      const aGot = take(a.client, 1);
      const bGot = take(b.client, 3);
      assert.strictEqual(wss.publish('news', 'headline'), 2);
      assert.strictEqual(wss.publish('sport', 'score', { binary: true }), 1);
      assert.strictEqual(wss.publish('news', 'for b only', { except: a.server }), 1);
      assert.strictEqual(wss.publish('empty', 'nobody'), 0);
      assert.deepStrictEqual(await aGot, ['headline']);
      assert.deepStrictEqual(await bGot, ['headline', 'bin:score', 'for b only']);

      assert.strictEqual(b.server.unsubscribe('news'), true);
      assert.strictEqual(b.server.unsubscribe('news'), false);
      assert.strictEqual(wss.numSubscribers('news'), 1);
      await delay(30);
      assert.strictEqual(cGot, 0);
      for (const p of [a, b, c]) p.client.close();
    });

    it('drops a connection from its topics when it closes', async function () {
      wss = await listen();
      const [a, b] = await connect(wss, 2);
      a.server.subscribe('t');
      b.server.subscribe('t');
      a.server.subscribe('u');
      const gone = once(a.server, 'close');
      a.client.close();
      await gone;
      assert.strictEqual(wss.numSubscribers('t'), 1);
      assert.strictEqual(wss.numSubscribers('u'), 0);
      assert.deepStrictEqual(a.server.topics, []);
      assert.strictEqual(a.server.subscribe('t'), false);
      b.client.close();
    });
  });

  describe('backpressure', function () {
    /** A raw client that never reads, and a ws client that does. */
    async function stalled(options) {
      wss = await listen({ maxBackpressure: 4 * 1024 * 1024, closeTimeout: 200, ...options });
      const conn = once(wss, 'connection');
      const raw = await rawClient(wss.address().port);
      raw.socket.pause();
      const [slow] = await conn;
      const [fast] = await connect(wss, 1);
      return { raw, slow, fast };
    }

    it("'drop' skips messages for a stalled client, counts them, and the others get everything", async function () {
      const { raw, slow, fast } = await stalled({ backpressure: 'drop' });
      const dropped = [];
      slow.on('dropped', (n) => dropped.push(n));
      const chunk = Buffer.alloc(16 * 1024, 1);
      const total = 1500;
      let fastGot = 0;
      fast.client.on('message', () => fastGot++);
      // A pace the in-process ws client keeps up with, so only the stalled client falls behind.
      for (let i = 0; i < total; i++) {
        wss.broadcast(chunk);
        await delay(1);
      }
      // Everything not dropped for the fast client reaches it (normally nothing is: it reads).
      await until(() => fastGot + fast.server.dropped === total);
      await until(() => dropped.length > 0);
      assert.ok(slow.dropped > 0, 'nothing was dropped');
      assert.ok(fast.server.dropped < slow.dropped / 4, `fast ${fast.server.dropped}, slow ${slow.dropped}`);
      assert.ok(slow.bufferedAmount <= 4 * 1024 * 1024 + chunk.length + 16, `bufferedAmount ${slow.bufferedAmount}`);
      assert.strictEqual(wss.stats().dropped, slow.dropped + fast.server.dropped);
      const err = await new Promise((resolve) => slow.send(chunk, resolve));
      assert.strictEqual(err.code, 'WS_ERR_BACKPRESSURE');

      const drained = once(slow, 'drain');
      raw.socket.resume();
      await drained;
      assert.strictEqual(slow.readyState, WebSocket.OPEN);
      raw.socket.destroy();
      fast.client.close();
    });

    it("'close' closes a stalled client with 1008 and leaves the others alone", async function () {
      const { raw, slow, fast } = await stalled({ backpressure: 'close' });
      const slowClosed = new Promise((resolve) => slow.on('close', (code) => resolve(code)));
      const chunk = Buffer.alloc(16 * 1024, 2);
      let fastGot = 0;
      fast.client.on('message', () => fastGot++);
      for (let i = 0; i < 1500 && slow.readyState === WebSocket.OPEN; i++) {
        wss.broadcast(chunk);
        await delay(1);
      }
      // The peer never reads the close frame, so closeTimeout (200 ms) destroys the socket.
      assert.strictEqual(await slowClosed, 1006);
      await until(() => fastGot > 0);
      assert.strictEqual(fast.server.readyState, WebSocket.OPEN);
      raw.socket.resume();
      await raw.ended();
      const last = raw.state.frames[raw.state.frames.length - 1];
      // What the kernel had accepted arrives; the close frame was still queued when the socket
      // was destroyed, unless the kernel took it first.
      if (last && last.opcode === 8) assert.strictEqual(closeInfo(last).code, 1008);
      fast.client.close();
    });
  });

  describe('automatic pongs', function () {
    it('terminates a peer that floods pings without reading once maxBackpressure is passed', async function () {
      wss = await listen({ maxBackpressure: 64 * 1024 });
      const conn = once(wss, 'connection');
      const raw = await rawClient(wss.address().port);
      raw.socket.pause();
      const [ws] = await conn;
      const code = new Promise((resolve) => ws.on('close', resolve));
      const { frame } = require('./ws-helpers');
      const ping = frame(9, Buffer.alloc(125, 1));
      const burst = Buffer.concat(Array.from({ length: 1000 }, () => ping));
      for (let i = 0; i < 200 && ws.readyState === WebSocket.OPEN; i++) {
        raw.socket.write(burst);
        await delay(1);
      }
      assert.strictEqual(await code, 1006);
      raw.socket.destroy();
    });
  });

  describe('idleTimeout', function () {
    it('pings a silent peer and terminates it when it stays silent; live peers stay', async function () {
      wss = await listen({ idleTimeout: 300, autoPong: true });
      const conn = once(wss, 'connection');
      const raw = await rawClient(wss.address().port);
      const [silent] = await conn;
      const [live] = await connect(wss, 1);
      const code = await new Promise((resolve) => silent.on('close', resolve));
      assert.strictEqual(code, 1006);
      const frames = await raw.frames(1);
      assert.strictEqual(frames[0].opcode, 9, 'the server pinged first');
      await delay(700);
      assert.strictEqual(live.server.readyState, WebSocket.OPEN, 'a ws client answers pings and stays');
      raw.socket.destroy();
      live.client.close();
    });
  });

  describe('messageBatch', function () {
    it("delivers data messages as 'messages' arrays, in order, in few calls", async function () {
      wss = await listen({ messageBatch: { maxSize: 64, maxDelay: 5 } });
      const [a, b] = await connect(wss, 2);
      let perSocket = 0;
      a.server.on('message', () => perSocket++);
      const seen = { a: [], b: [] };
      let calls = 0;
      const done = new Promise((resolve) =>
        wss.on('messages', (batch) => {
          calls++;
          assert.ok(batch.length <= 64);
          for (const { ws, data, isBinary } of batch) {
            (ws === a.server ? seen.a : seen.b).push(isBinary ? `bin:${data}` : data.toString());
          }
          if (seen.a.length + seen.b.length === 1000) resolve();
        }),
      );
      for (let i = 0; i < 500; i++) {
        a.client.send(`a${i}`);
        b.client.send(Buffer.from(`b${i}`));
      }
      await done;
      assert.deepStrictEqual(seen.a, Array.from({ length: 500 }, (_, i) => `a${i}`));
      assert.deepStrictEqual(seen.b, Array.from({ length: 500 }, (_, i) => `bin:b${i}`));
      assert.ok(calls < 1000 / 4, `${calls} calls`);
      assert.strictEqual(perSocket, 0);
      a.client.close();
      b.client.close();
    });

    it('validates its options', function () {
      assert.throws(() => new WebSocketServer({ noServer: true, messageBatch: { maxSize: 0 } }), {
        code: 'ERR_OUT_OF_RANGE',
      });
      assert.throws(() => new WebSocketServer({ noServer: true, messageBatch: 5 }), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    });
  });

  describe('#shutdown', function () {
    it('flushes what is queued, closes every client with 1001 and resolves', async function () {
      wss = await listen();
      const pairs = await connect(wss, 3);
      const results = pairs.map(({ client }) => {
        let n = 0;
        client.on('message', () => n++);
        return new Promise((resolve) => client.on('close', (code, reason) => resolve([n, code, reason.toString()])));
      });
      for (let i = 0; i < 200; i++) wss.broadcast(Buffer.alloc(1024, i));
      await wss.shutdown({ reason: 'maintenance' });
      for (const r of await Promise.all(results)) assert.deepStrictEqual(r, [200, 1001, 'maintenance']);
      assert.strictEqual(wss.clients.size, 0);
      await wss.shutdown();
    });

    it('terminates clients that do not finish the handshake within timeout', async function () {
      wss = await listen();
      const conn = once(wss, 'connection');
      const raw = await rawClient(wss.address().port);
      raw.socket.pause();
      const [ws] = await conn;
      const code = new Promise((resolve) => ws.on('close', resolve));
      await wss.shutdown({ timeout: 100 });
      assert.strictEqual(await code, 1006);
      raw.socket.destroy();
    });
  });

  describe('#stats', function () {
    it('counts connections, messages and bytes, with rates from the second call', async function () {
      wss = await listen();
      const s0 = wss.stats();
      assert.strictEqual(s0.connections, 0);
      assert.strictEqual(s0.rates, undefined);
      const [a, b] = await connect(wss, 2);
      const echoed = take(a.client, 3);
      a.server.on('message', (d) => a.server.send(d));
      a.client.send('one');
      a.client.send('two');
      a.client.send('three');
      await echoed;
      wss.broadcast('to both');
      await until(() => wss.stats().messagesOut >= 5);
      const s = wss.stats();
      assert.strictEqual(s.connections, 2);
      assert.strictEqual(s.opened, 2);
      assert.strictEqual(s.messagesIn, 3);
      assert.strictEqual(s.messagesOut, 5);
      assert.ok(s.bytesIn > 0 && s.bytesOut > 0);
      assert.strictEqual(s.dropped, 0);
      assert.strictEqual(typeof s.rates.messagesIn, 'number');
      a.client.close();
      b.client.close();
    });
  });
});
