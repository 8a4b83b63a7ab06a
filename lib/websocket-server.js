'use strict';

/**
 * WebSocketServer: shaped like `ws` 8's. Node's http server (ours for `port`, the caller's for
 * `server`, or the caller's upgrade handler for `noServer`) parses the upgrade request; the
 * handshake checks, hooks, error responses and events are those of `ws`; the accepted socket is
 * then handed to Rust through this server's hub, and every connection's events come back
 * through the hub's one bridge.
 *
 * Beyond `ws`: broadcast(), publish()/numSubscribers() (topic pub/sub), per-connection
 * backpressure (`maxBackpressure`, `backpressure`), `idleTimeout` heartbeats and stats().
 */

const http = require('node:http');
const { createHash } = require('node:crypto');

const EventEmitter = require('../events');
const WebSocket = require('./websocket');
const { WsHub } = require('./ws-hub');
const { validateNumber, validateObject, validateOneOf } = require('./validate');

const { GUID, CLOSE_TIMEOUT } = WebSocket.internals;
const keyRegex = /^[+/0-9A-Za-z]{22}==$/;
const kWebSocket = Symbol('ferrocast.ws.socket');
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

// Token characters of RFC 7230 (for Sec-WebSocket-Protocol).
const tokenChar = (c) => c < 128 && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(c));

/** Parses a Sec-WebSocket-Protocol header into a Set; throws SyntaxError like `ws`. */
function parseProtocols(header) {
  const protocols = new Set();
  let start = -1;
  let end = -1;
  let i = 0;
  const take = (to) => {
    const p = header.slice(start, to);
    if (protocols.has(p)) throw new SyntaxError(`The "${p}" subprotocol is duplicated`);
    protocols.add(p);
  };
  for (; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (end === -1 && tokenChar(c)) {
      if (start === -1) start = i;
    } else if (i !== 0 && (c === 0x20 || c === 0x09)) {
      if (end === -1 && start !== -1) end = i;
    } else if (c === 0x2c) {
      if (start === -1) throw new SyntaxError(`Unexpected character at index ${i}`);
      take(end === -1 ? i : end);
      start = end = -1;
    } else {
      throw new SyntaxError(`Unexpected character at index ${i}`);
    }
  }
  if (start === -1 || end !== -1) throw new SyntaxError('Unexpected end of input');
  take(i);
  return protocols;
}

class WebSocketServer extends EventEmitter {
  /**
   * @param {object} options see README (`port` | `server` | `noServer`, and the `ws` options)
   * @param {Function} [callback] a 'listening' listener
   */
  constructor(options, callback) {
    super();
    options = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxBufferedChunks: 256 * 1024,
      maxFragments: 16 * 1024,
      maxPayload: 100 * 1024 * 1024,
      maxPendingAutoPongs: 60,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      closeTimeout: CLOSE_TIMEOUT,
      verifyClient: null,
      noServer: false,
      backlog: null,
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket,
      maxBackpressure: 16 * 1024 * 1024,
      backpressure: 'buffer',
      idleTimeout: 0,
      ...options,
    };

    if (
      (options.port == null && !options.server && !options.noServer) ||
      (options.port != null && (options.server || options.noServer)) ||
      (options.server && options.noServer)
    ) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    validateNumber(options.maxBackpressure, 'options.maxBackpressure', { min: 0 });
    validateOneOf(options.backpressure, 'options.backpressure', ['buffer', 'drop', 'close']);
    validateNumber(options.idleTimeout, 'options.idleTimeout', { min: 0 });
    let batch = null;
    if (options.messageBatch !== undefined && options.messageBatch !== null && options.messageBatch !== false) {
      const mb = options.messageBatch === true ? {} : validateObject(options.messageBatch, 'options.messageBatch');
      batch = { maxSize: 1024, maxDelay: 1 };
      if (mb.maxSize !== undefined) {
        batch.maxSize = validateNumber(mb.maxSize, 'options.messageBatch.maxSize', {
          min: 1,
          max: 2 ** 31 - 1,
          integer: true,
        });
      }
      if (mb.maxDelay !== undefined) {
        batch.maxDelay = validateNumber(mb.maxDelay, 'options.messageBatch.maxDelay', { min: 0, max: 2 ** 31 - 1 });
      }
    }

    if (options.port != null) {
      this._server = http.createServer((req, res) => {
        const body = http.STATUS_CODES[426];
        res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        res.end(body);
      });
      this._server.listen(options.port, options.host, options.backlog, callback);
      this._ownServer = true;
    } else if (options.server) {
      this._server = options.server;
    }

    if (this._server) {
      const emitConnection = this.emit.bind(this, 'connection');
      const listeners = {
        listening: this.emit.bind(this, 'listening'),
        error: this.emit.bind(this, 'error'),
        upgrade: (req, socket, head) => this.handleUpgrade(req, socket, head, emitConnection),
      };
      for (const [event, fn] of Object.entries(listeners)) this._server.on(event, fn);
      const server = this._server;
      this._removeListeners = () => {
        for (const [event, fn] of Object.entries(listeners)) server.removeListener(event, fn);
      };
    }

    // permessage-deflate is not implemented: it is accepted as an option and negotiated off.
    if (options.perMessageDeflate === true) options.perMessageDeflate = {};
    if (options.clientTracking) {
      this.clients = new Set();
      this._shouldEmitClose = false;
      // One 'close' listener shared by every client (`this` is the client), not a closure each.
      const server = this;
      this._onClientClose = function onClientClose() {
        server.clients.delete(this);
        server._maybeEmitClose();
      };
    }
    this.options = options;
    this._state = RUNNING;
    this._hub = new WsHub(batch && { maxBatch: batch.maxSize, maxDelay: batch.maxDelay });
    this._hub.onEmpty = () => this._maybeEmitClose();
    if (batch) this._hub.batchTo(this, batch.maxSize);
    this._serverClosed = false;
  }

  /** The bound address (see net.Server#address()); throws in noServer mode. */
  address() {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address();
  }

  /**
   * Stops accepting connections; 'close' is emitted once the server is closed and (as with
   * `ws`) every connection it accepted is closed. Existing connections are not closed.
   * @param {Function} [cb] a one-time 'close' listener; gets an error if already closed
   */
  close(cb) {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;

    if (this._server) {
      this._removeListeners();
      const server = this._server;
      this._removeListeners = this._server = null;
      if (this._ownServer) {
        server.close(() => {
          this._serverClosed = true;
          this._maybeEmitClose();
        });
        return;
      }
    }
    this._serverClosed = true;
    this._maybeEmitClose();
  }

  /** @private */
  _maybeEmitClose() {
    if (this._state !== CLOSING || !this._serverClosed || this._closeScheduled) return;
    const open = this.clients ? this.clients.size : this._hub.connections.size;
    if (open !== 0) return;
    this._closeScheduled = true;
    process.nextTick(emitClose, this);
  }

  /**
   * Closes gracefully: stops accepting, sends every client a close frame after what is queued
   * for it, and terminates those still open after `timeout` ms. Resolves once every connection
   * is closed and the server is closed.
   * @param {{ code?: number, reason?: string, timeout?: number }} [options] code 1001, reason '',
   *   timeout 5000 by default
   * @returns {Promise<void>}
   */
  shutdown(options = {}) {
    validateObject(options, 'options');
    const { code = 1001, reason = '', timeout = 5000 } = options;
    if (!WebSocket.internals.isValidStatusCode(code)) {
      throw new TypeError('First argument must be a valid error code number');
    }
    validateNumber(timeout, 'options.timeout', { min: 0, max: 2 ** 31 - 1 });
    if (this._state === CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const open = [...this._hub.connections.values()];
      const timer = setTimeout(() => {
        for (const ws of this._hub.connections.values()) ws.terminate();
      }, timeout);
      this.close(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const ws of open) {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      }
    });
  }

  /** Whether this server handles `req` (the `path` option). */
  shouldHandle(req) {
    if (this.options.path) {
      const index = req.url.indexOf('?');
      const pathname = index !== -1 ? req.url.slice(0, index) : req.url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Completes (or rejects) a WebSocket handshake for an 'upgrade' request.
   * @param {http.IncomingMessage} req @param {import('stream').Duplex} socket
   * @param {Buffer} head @param {(ws: WebSocket, req: http.IncomingMessage) => void} cb
   */
  handleUpgrade(req, socket, head, cb) {
    socket.on('error', socketOnError);
    const key = req.headers['sec-websocket-key'];
    const upgrade = req.headers.upgrade;
    const version = +req.headers['sec-websocket-version'];

    if (req.method !== 'GET') {
      abortHandshakeOrEmitwsClientError(this, req, socket, 405, 'Invalid HTTP method');
      return;
    }
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      abortHandshakeOrEmitwsClientError(this, req, socket, 400, 'Invalid Upgrade header');
      return;
    }
    if (key === undefined || !keyRegex.test(key)) {
      abortHandshakeOrEmitwsClientError(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Key header');
      return;
    }
    if (version !== 13 && version !== 8) {
      abortHandshakeOrEmitwsClientError(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Version header', {
        'Sec-WebSocket-Version': '13, 8',
      });
      return;
    }
    if (!this.shouldHandle(req)) {
      abortHandshake(socket, 400);
      return;
    }

    const secWebSocketProtocol = req.headers['sec-websocket-protocol'];
    let protocols = new Set();
    if (secWebSocketProtocol !== undefined) {
      try {
        protocols = parseProtocols(secWebSocketProtocol);
      } catch {
        abortHandshakeOrEmitwsClientError(this, req, socket, 400, 'Invalid Sec-WebSocket-Protocol header');
        return;
      }
    }

    if (this.options.verifyClient) {
      const info = {
        origin: req.headers[version === 8 ? 'sec-websocket-origin' : 'origin'],
        secure: !!(req.socket.authorized || req.socket.encrypted),
        req,
      };
      if (this.options.verifyClient.length === 2) {
        this.options.verifyClient(info, (verified, code, message, headers) => {
          if (!verified) return abortHandshake(socket, code || 401, message, headers);
          this.completeUpgrade({}, key, protocols, req, socket, head, cb);
        });
        return;
      }
      if (!this.options.verifyClient(info)) return abortHandshake(socket, 401);
    }
    this.completeUpgrade({}, key, protocols, req, socket, head, cb);
  }

  /**
   * Writes the 101 response and hands the socket to Rust.
   * @private
   */
  completeUpgrade(extensions, key, protocols, req, socket, head, cb) {
    // Checked first: an adopted socket is already destroyed on the Node side.
    if (socket[kWebSocket]) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    // The client has already sent a FIN.
    if (!socket.readable || !socket.writable) return socket.destroy();
    if (this._state > RUNNING) return abortHandshake(socket, 503);

    const digest = createHash('sha1').update(key + GUID).digest('base64');
    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${digest}`,
    ];
    const ws = new this.options.WebSocket(null, undefined, this.options);
    if (protocols.size) {
      const protocol = this.options.handleProtocols
        ? this.options.handleProtocols(protocols, req)
        : protocols.values().next().value;
      if (protocol) {
        headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
        ws._protocol = protocol;
      }
    }
    this.emit('headers', headers, req);
    socket[kWebSocket] = ws;
    socket.removeListener('error', socketOnError);
    const preamble = Buffer.from(headers.concat('\r\n').join('\r\n'));
    ws._adopt(this._hub, socket, head, preamble, this.options);

    if (this.clients) {
      this.clients.add(ws);
      ws.on('close', this._onClientClose);
    }
    cb(ws, req);
  }

  /**
   * Sends `data` to every open client with one native call: the frame is built once and
   * written to each socket by the runtime, in order with the other sends on that socket.
   * @param {*} data a string, Buffer, ArrayBuffer, typed array or DataView
   * @param {{ binary?: boolean, except?: WebSocket | WebSocket[] }} [options]
   * @returns {number} how many clients it was queued for
   */
  broadcast(data, options = {}) {
    const { buf, binary } = frameData(data, options);
    return this._hub.native.broadcast(buf, binary, exceptIds(options.except));
  }

  /**
   * Sends `data` to the clients subscribed to `topic` (see WebSocket#subscribe).
   * @returns {number} how many clients it was queued for
   */
  publish(topic, data, options = {}) {
    const { buf, binary } = frameData(data, options);
    return this._hub.native.publish(String(topic), buf, binary, exceptIds(options.except));
  }

  /** How many clients are subscribed to `topic`. */
  numSubscribers(topic) {
    return this._hub.native.numSubscribers(String(topic));
  }

  /**
   * Counters: connections open, opened, messagesIn, bytesIn, messagesOut, bytesOut, dropped,
   * and, from the second call on, per-second rates since the previous call.
   */
  stats() {
    const s = this._hub.native.stats();
    const now = process.hrtime.bigint();
    if (this._lastStats) {
      const secs = Number(now - this._lastStats.at) / 1e9;
      const prev = this._lastStats.s;
      const rate = (k) => (secs > 0 ? (s[k] - prev[k]) / secs : 0);
      s.rates = {
        messagesIn: rate('messagesIn'),
        bytesIn: rate('bytesIn'),
        messagesOut: rate('messagesOut'),
        bytesOut: rate('bytesOut'),
        dropped: rate('dropped'),
      };
    }
    this._lastStats = { at: now, s: { ...s } };
    return s;
  }
}

function frameData(data, options) {
  if (typeof data === 'number') data = data.toString();
  const binary = options.binary !== undefined ? !!options.binary : typeof data !== 'string';
  let buf;
  if (typeof data === 'string') buf = Buffer.from(data);
  else if (Buffer.isBuffer(data)) buf = data;
  else if (data instanceof ArrayBuffer) buf = Buffer.from(data);
  else if (ArrayBuffer.isView(data)) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else if (data == null) buf = Buffer.alloc(0);
  else buf = Buffer.from(data);
  return { buf, binary };
}

function exceptIds(except) {
  if (except == null) return undefined;
  const list = Array.isArray(except) || except instanceof Set ? [...except] : [except];
  const ids = [];
  for (const ws of list) if (ws && ws._native) ids.push(ws._native.id);
  return ids;
}

function emitClose(server) {
  server._state = CLOSED;
  server.emit('close');
}

function socketOnError() {
  this.destroy();
}

/** Answers a rejected handshake with an HTTP error and closes the socket. */
function abortHandshake(socket, code, message, headers) {
  message = message || http.STATUS_CODES[code];
  headers = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(message),
    ...headers,
  };
  socket.once('finish', socket.destroy);
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\n` +
      Object.keys(headers)
        .map((h) => `${h}: ${headers[h]}`)
        .join('\r\n') +
      '\r\n\r\n' +
      message,
  );
}

/** Emits 'wsClientError' when someone listens, otherwise answers with an HTTP error. */
function abortHandshakeOrEmitwsClientError(server, req, socket, code, message, headers) {
  if (server.listenerCount('wsClientError')) {
    const err = new Error(message);
    Error.captureStackTrace(err, abortHandshakeOrEmitwsClientError);
    server.emit('wsClientError', err, socket, req);
  } else {
    abortHandshake(socket, code, message, headers);
  }
}

module.exports = WebSocketServer;
