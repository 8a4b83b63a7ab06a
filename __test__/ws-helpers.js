'use strict';

// Helpers for the ferrocast/ws tests: raw handshakes over net.Socket, frame building, and
// small promise wrappers. Everything runs on 127.0.0.1.

const net = require('node:net');
const crypto = require('node:crypto');
const { once } = require('node:events');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Builds one frame; masked with a random key unless `mask` is false. */
function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const head = [((fin ? 0x80 : 0) | rsv | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** Parses frames from a buffer: a server's (unmasked) or a client's (masked, unmasked here). */
function parseFrames(buf) {
  const frames = [];
  let pos = 0;
  while (buf.length - pos >= 2) {
    const b0 = buf[pos];
    const b1 = buf[pos + 1];
    let len = b1 & 0x7f;
    let off = pos + 2;
    if (len === 126) {
      if (buf.length - pos < 4) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (buf.length - pos < 10) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) off += 4;
    if (buf.length < off + len) break;
    let payload = buf.subarray(off, off + len);
    if (masked) {
      const key = buf.subarray(off - 4, off);
      payload = Buffer.from(payload);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    }
    frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, masked, key: masked ? buf.subarray(off - 4, off) : null, payload });
    pos = off + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

/**
 * Opens a raw TCP connection and performs a WebSocket handshake. Resolves with
 * { socket, response, frames(): Promise<frame[]> collecting frames, ended }.
 * `extra` is written in the same packet as the request (to test `head`).
 */
async function rawClient(port, { path = '/', headers = {}, extra, key } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  key = key || crypto.randomBytes(16).toString('base64');
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ];
  const request = Buffer.from(lines.join('\r\n'));
  socket.write(extra ? Buffer.concat([request, extra]) : request);
  const state = { buf: Buffer.alloc(0), response: null, frames: [], ended: false, waiters: [] };
  const notify = () => {
    for (const w of state.waiters.splice(0)) w();
  };
  socket.on('data', (d) => {
    state.buf = Buffer.concat([state.buf, d]);
    if (state.response === null) {
      const i = state.buf.indexOf('\r\n\r\n');
      if (i === -1) return;
      state.response = state.buf.subarray(0, i).toString();
      state.buf = state.buf.subarray(i + 4);
    }
    const { frames, rest } = parseFrames(state.buf);
    state.frames.push(...frames);
    state.buf = rest;
    notify();
  });
  socket.on('end', () => {
    state.ended = true;
    notify();
  });
  socket.on('close', () => {
    state.ended = true;
    notify();
  });
  socket.on('error', () => {});
  const until = (pred) =>
    new Promise((resolve) => {
      const check = () => {
        if (pred()) resolve();
        else state.waiters.push(check);
      };
      check();
    });
  await until(() => state.response !== null || state.ended);
  return {
    socket,
    state,
    get response() {
      return state.response;
    },
    /** Waits for `n` frames in total and returns them. */
    async frames(n) {
      await until(() => state.frames.length >= n || state.ended);
      return state.frames.slice(0, n);
    },
    async ended() {
      await until(() => state.ended);
    },
    accept: crypto
      .createHash('sha1')
      .update(key + GUID)
      .digest('base64'),
  };
}

/** Sends a raw HTTP request on a fresh socket and resolves with the whole response text. */
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d) => (out += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

/** The close frame's code and reason. */
function closeInfo(f) {
  if (f.payload.length === 0) return { code: 1005, reason: '' };
  return { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2).toString() };
}

/** Resolves after `ms` milliseconds. */
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Upgrade-request text with the given header overrides (null removes a header). */
function upgradeRequest(port, { method = 'GET', path = '/', headers = {} } = {}) {
  const base = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = [`${method} ${path} HTTP/1.1`];
  for (const [k, v] of Object.entries(base)) if (v !== null) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * A raw WebSocket server for one client: it answers the handshake, writing `after` in the same
 * packet (then, with `end`, ends its side), and collects the client's frames (unmasked) until the
 * client ends the connection; with `read: false` it stops reading after the handshake.
 */
async function rawServer(after, { end = false, read = true } = {}) {
  const endAfter = end;
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
          if (endAfter) socket.end();
          if (!read) socket.pause();
          buf = buf.subarray(end + 4);
          open = true;
        }
      });
      socket.on('end', () => {
        if (!endAfter) socket.end();
        resolve(parseFrames(buf).frames);
      });
      socket.on('error', () => {});
    });
  });
  return { port: server.address().port, frames, close: () => server.close() };
}

module.exports = { frame, parseFrames, rawClient, rawServer, rawRequest, closeInfo, delay, upgradeRequest, GUID };
