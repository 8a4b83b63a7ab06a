'use strict';

/**
 * WebSocket: one connection, server side or client, shaped like `ws` 8's WebSocket. Framing and
 * I/O run in Rust (src/ws/connection.rs); this class keeps the readyState machine, validates
 * arguments with `ws`'s messages, and emits the events the hub dispatches to it.
 *
 * A client does the opening handshake with Node's http/https (so agents, headers, redirects and
 * TLS behave as in `ws`), checks the 101 response like `ws`, then hands the socket to Rust.
 */

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');
const { randomBytes, createHash } = require('node:crypto');
const { URL } = require('node:url');

const EventEmitter = require('../events');
const { defineEventAttributes } = require('./ws-event-target');
const { RECORD, getClientHub, kClosingDone } = require('./ws-hub');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CLOSE_TIMEOUT = 30000;
const EMPTY_BUFFER = Buffer.alloc(0);
const hasBlob = typeof Blob !== 'undefined';
const BINARY_TYPES = ['nodebuffer', 'arraybuffer', 'fragments'];
if (hasBlob) BINARY_TYPES.push('blob');
const readyStates = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
const protocolVersions = [8, 13];
const subprotocolRegex = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
const kStatusCode = Symbol('ferrocast.ws.statusCode');
const kAborted = Symbol('ferrocast.ws.aborted');

/** Whether `code` may be sent or received in a close frame. */
function isValidStatusCode(code) {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

function isBlob(value) {
  return (
    hasBlob &&
    typeof value === 'object' &&
    value !== null &&
    typeof value.arrayBuffer === 'function' &&
    typeof value.type === 'string' &&
    typeof value.stream === 'function' &&
    (value[Symbol.toStringTag] === 'Blob' || value[Symbol.toStringTag] === 'File')
  );
}

/** Buffer view of what `send()` accepts (no copy for buffers, typed arrays and ArrayBuffers). */
function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Negotiated extensions: always none (permessage-deflate is not implemented), so shared. */
const NO_EXTENSIONS = Object.freeze({});

class WebSocket extends EventEmitter {
  /**
   * @param {string|URL|null} address the URL to connect to (null for a server-side socket)
   * @param {string|string[]} [protocols] the subprotocols to request
   * @param {object} [options] client options (see README), or a server's options
   */
  constructor(address, protocols, options) {
    super();
    this._binaryType = BINARY_TYPES[0];
    this._closeCode = 1006;
    this._closeFrameReceived = false;
    this._closeFrameSent = false;
    this._closeMessage = EMPTY_BUFFER;
    this._errorEmitted = false;
    this._extensions = NO_EXTENSIONS;
    this._paused = false;
    this._protocol = '';
    this._readyState = WebSocket.CONNECTING;
    this._native = null;
    this._socket = null;
    this._transport = null;
    this._bufferedAmount = 0;
    this._sendCallbacks = [];
    this._held = [];
    this._fragmenting = false;
    this._blobQueue = null;
    /** Payload bytes waiting in `_blobQueue` (counted in bufferedAmount, as ws's sender queue). */
    this._blobQueueBytes = 0;
    /** terminate() was called. */
    this._terminated = false;
    this[kClosingDone] = null;
    // Messages can be emitted straight from the hub's loop (see ws-hub.js).
    this._direct = false;
    this._outputPaused = false;
    this._url = undefined;
    this._req = null;
    /** A client's `generateMask` option, or null (keys drawn in Rust). */
    this._generateMask = null;
    this._maskBuf = null;

    if (address !== null) {
      this._isServer = false;
      this._redirects = 0;
      if (protocols === undefined) {
        protocols = protocolsFrom(options);
      } else if (!Array.isArray(protocols)) {
        if (typeof protocols === 'object' && protocols !== null) {
          options = protocols;
          protocols = protocolsFrom(options);
        } else {
          protocols = [protocols];
        }
      }
      options = initAsClient(this, address, protocols, options);
      if (options.generateMask) this._generateMask = options.generateMask;
    } else {
      this._isServer = true;
    }
    this._autoPong = options.autoPong !== false;
    this._allowSynchronousEvents = options.allowSynchronousEvents !== false;
    this._closeTimeout = options.closeTimeout;
    this._updateDirect();
  }

  /** 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob': how binary messages arrive. */
  get binaryType() {
    return this._binaryType;
  }

  set binaryType(type) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
    this._updateDirect();
  }

  /** @private */
  _updateDirect() {
    this._direct =
      !this._paused &&
      this._held.length === 0 &&
      this._allowSynchronousEvents &&
      this._binaryType === 'nodebuffer';
  }

  /** Bytes queued by send() and not yet written to the socket. */
  get bufferedAmount() {
    let n = this._bufferedAmount + this._blobQueueBytes;
    if (this._native !== null) n += this._native.bufferedAmount;
    if (this._transport !== null && this._transport.writableLength) n += this._transport.writableLength;
    return n;
  }

  /** The negotiated extensions (none: permessage-deflate is not implemented). */
  get extensions() {
    return Object.keys(this._extensions).join();
  }

  /** Whether pause() is in effect. */
  get isPaused() {
    return this._paused;
  }

  /** The subprotocol the server selected. */
  get protocol() {
    return this._protocol;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState() {
    return this._readyState;
  }

  /** The URL a client connected to (undefined on the server side). */
  get url() {
    return this._url;
  }

  /** Messages skipped for this connection by the 'drop' backpressure policy. */
  get dropped() {
    return this._native === null ? 0 : this._native.dropped;
  }

  /** The topics this connection is subscribed to (server side). */
  get topics() {
    return this._native === null ? [] : this._native.topics();
  }

  /**
   * Takes over an upgraded socket: hands it to Rust through `hub`, then emits 'open'.
   * @private
   */
  _adopt(hub, socket, head, preamble, options) {
    this._native = hub.adopt(this, socket, head, preamble, {
      server: this._isServer,
      maxPayload: options.maxPayload,
      maxFragments: options.maxFragments,
      maxBufferedChunks: options.maxBufferedChunks,
      skipUtf8Validation: !!options.skipUTF8Validation,
      autoPong: this._autoPong,
      maxPendingAutoPongs: options.maxPendingAutoPongs,
      closeTimeout: this._closeTimeout,
      maxBackpressure: options.maxBackpressure,
      backpressure: options.backpressure,
      idleTimeout: options.idleTimeout,
    });
    // Code that reads `ws._socket.remoteAddress` & co. keeps working. An adopted socket is
    // destroyed on the Node side, so only its addresses are kept (not the whole object).
    this._socket =
      this._transport !== null
        ? socket
        : {
            remoteAddress: socket.remoteAddress,
            remotePort: socket.remotePort,
            remoteFamily: socket.remoteFamily,
            localAddress: socket.localAddress,
            localPort: socket.localPort,
          };
    this._readyState = WebSocket.OPEN;
    this.emit('open');
  }

  /**
   * One record from the hub, for this connection.
   * @private
   */
  _onRecord(kind, extra, bytes, start, end) {
    switch (kind) {
      case RECORD.SENT:
        for (let i = 0; i < extra; i++) {
          const cb = this._sendCallbacks.shift();
          if (cb) cb(null);
        }
        return;
      case RECORD.OUT:
        if (this._transport !== null && !this._transport.write(bytes.subarray(start, end)) && !this._outputPaused) {
          // Let the bytes wait in Rust, where the backpressure policy counts them.
          this._outputPaused = true;
          this._native.pauseOutput(true);
          this._transport.once('drain', () => {
            this._outputPaused = false;
            if (this._native !== null) this._native.pauseOutput(false);
          });
        }
        return;
      case RECORD.END:
        if (this._transport !== null) this._transport.end();
        return;
      case RECORD.DESTROY:
        if (this._transport !== null) this._transport.destroy();
        return;
      case RECORD.DRAIN:
        this.emit('drain');
        return;
      case RECORD.DROPPED:
        this.emit('dropped', extra);
        return;
      case RECORD.CLOSED:
        // In the next tick, as ws emits 'close' from its socket's 'close': what the records
        // before this one scheduled (a stream's 'finish' after the closing handshake) first.
        process.nextTick(finishNT, this);
        return;
      default:
        if (this._paused || this._held.length !== 0 || !this._allowSynchronousEvents) {
          this._hold(kind, extra, bytes.subarray(start, end));
        } else {
          this._dispatch(kind, extra, bytes.subarray(start, end));
        }
    }
  }

  /** @private */
  _dispatch(kind, extra, data) {
    switch (kind) {
      case RECORD.TEXT:
        this.emit('message', data, false);
        break;
      case RECORD.BINARY:
        this.emit('message', this._binary(data), true);
        break;
      case RECORD.PING:
        this.emit('ping', data);
        break;
      case RECORD.PONG:
        this.emit('pong', data);
        break;
      case RECORD.CLOSE_FRAME: {
        this._closeFrameReceived = true;
        this._closeCode = extra;
        this._closeMessage = data.length === 0 ? EMPTY_BUFFER : Buffer.from(data);
        if (this._readyState === WebSocket.OPEN) this._readyState = WebSocket.CLOSING;
        // Answer with a close frame (as ws does on reaching the peer's), after whatever the
        // listeners of the messages before it sent.
        this._closeOnce(extra === 1005 ? undefined : extra, data.length === 0 ? undefined : this._closeMessage);
        const done = this[kClosingDone];
        if (done) {
          this[kClosingDone] = null;
          done();
        }
        break;
      }
      case RECORD.PEER_END:
        // As ws on its socket's 'end': CLOSING, and this side ends after what is queued.
        if (this._readyState === WebSocket.OPEN) this._readyState = WebSocket.CLOSING;
        if (this._native !== null) this._native.end(false);
        break;
      case RECORD.ERROR: {
        const text = data.toString();
        const a = text.indexOf('\n');
        const b = text.indexOf('\n', a + 1);
        const Ctor = text.slice(a + 1, b) === 'R' ? RangeError : Error;
        const err = new Ctor(text.slice(b + 1));
        err.code = text.slice(0, a);
        err[kStatusCode] = extra;
        if (this._readyState === WebSocket.OPEN) this._readyState = WebSocket.CLOSING;
        // As ws's receiver failing: close with the error's status, then 'error'.
        this._closeOnce(extra, undefined);
        if (!this._errorEmitted) {
          this._errorEmitted = true;
          this.emit('error', err);
        }
        break;
      }
    }
  }

  /** @private */
  _binary(data) {
    switch (this._binaryType) {
      case 'arraybuffer':
        return data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
      case 'fragments':
        return [data];
      case 'blob':
        return new Blob([data]);
      default:
        return data;
    }
  }

  /** Keeps a record for later: paused, or one event per tick. @private */
  _hold(kind, extra, data) {
    this._held.push(kind, extra, data);
    this._direct = false;
    if (this._held.length === 3) this._scheduleHeld();
  }

  /** @private */
  _scheduleHeld() {
    if (this._paused || this._held.length === 0 || this._heldScheduled) return;
    this._heldScheduled = true;
    setImmediate(() => {
      this._heldScheduled = false;
      this._releaseHeld();
    });
  }

  /** @private */
  _releaseHeld() {
    const oneAtATime = !this._allowSynchronousEvents;
    while (!this._paused && this._held.length !== 0) {
      const kind = this._held.shift();
      const extra = this._held.shift();
      const data = this._held.shift();
      this._dispatch(kind, extra, data);
      if (oneAtATime) break;
    }
    this._updateDirect();
    this._scheduleHeld();
  }

  /** Delivers held records before 'close' (like `ws` reading a paused socket's rest). @private */
  _flushHeld() {
    while (this._held.length !== 0) {
      const kind = this._held.shift();
      const extra = this._held.shift();
      this._dispatch(kind, extra, this._held.shift());
    }
  }

  /** The connection is gone: fail pending callbacks, then 'close'. @private */
  _finish() {
    this._readyState = WebSocket.CLOSING;
    const cbs = this._sendCallbacks;
    this._sendCallbacks = [];
    if (cbs.length) {
      // What ws's callbacks get from Node's socket when it is destroyed: the write in progress
      // null, the writes buffered behind it ERR_STREAM_DESTROYED.
      const err = new Error('Cannot call write after a stream was destroyed');
      err.code = 'ERR_STREAM_DESTROYED';
      for (let i = 0; i < cbs.length; i++) cbs[i](i === 0 ? null : err);
    }
    this.emitClose();
  }

  /**
   * Emits 'close'.
   * @private
   */
  emitClose() {
    this._readyState = WebSocket.CLOSED;
    this.emit('close', this._closeCode, this._closeMessage);
  }

  /**
   * Starts the closing handshake.
   * @param {number} [code] a status code (1000–1014 but 1004–1006, or 3000–4999)
   * @param {string|Buffer} [data] the reason, at most 123 bytes
   */
  close(code, data) {
    if (this.readyState === WebSocket.CLOSED) return;
    if (this.readyState === WebSocket.CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this.readyState === WebSocket.CLOSING) {
      if (this._closeFrameSent && this._native) this._native.close(undefined, undefined);
      return;
    }
    let reason;
    if (code !== undefined) {
      if (typeof code !== 'number' || !isValidStatusCode(code)) {
        throw new TypeError('First argument must be a valid error code number');
      }
      if (data !== undefined && data.length) {
        if (Buffer.byteLength(data) > 123) {
          throw new RangeError('The message must not be greater than 123 bytes');
        }
        if (typeof data === 'string') reason = Buffer.from(data);
        else if (data instanceof Uint8Array) reason = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        else throw new TypeError('Second argument must be a string or a Uint8Array');
      }
    }
    this._sendClose(code, reason);
    this._closeFrameSent = true;
    this._readyState = WebSocket.CLOSING;
  }

  /** Stops emitting messages (and reading the socket) until resume(). */
  pause() {
    if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.CLOSED) return;
    this._paused = true;
    this._direct = false;
    this._native.pause();
  }

  /** Undoes pause(). */
  resume() {
    if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.CLOSED) return;
    this._paused = false;
    this._native.resume();
    this._updateDirect();
    this._scheduleHeld();
  }

  /**
   * Sends a ping.
   * @param {*} [data] payload, at most 125 bytes
   * @param {boolean} [mask] mask the frame (default: clients do)
   * @param {Function} [cb] called once the ping is written
   */
  ping(data, mask, cb) {
    this._control(false, data, mask, cb);
  }

  /**
   * Sends a pong.
   * @param {*} [data] payload, at most 125 bytes
   * @param {boolean} [mask] mask the frame (default: clients do)
   * @param {Function} [cb] called once the pong is written
   */
  pong(data, mask, cb) {
    this._control(true, data, mask, cb);
  }

  /** @private */
  _control(isPong, data, mask, cb) {
    if (this.readyState === WebSocket.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof data === 'function') {
      cb = data;
      data = mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.readyState !== WebSocket.OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    if (mask === undefined) mask = !this._isServer;
    if (isBlob(data)) {
      this._queueBlob(data, (buf) => this._controlBuffer(isPong, buf, mask, cb), cb);
      return;
    }
    const buf = data ? toBuffer(data) : EMPTY_BUFFER;
    if (buf.length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this._blobQueue !== null) {
      this._afterBlob(() => this._controlBuffer(isPong, buf, mask, cb), cb, buf.length);
      return;
    }
    this._controlBuffer(isPong, buf, mask, cb);
  }

  /** @private */
  _controlBuffer(isPong, buf, mask, cb) {
    if (buf.length > 125) {
      if (cb) process.nextTick(cb, new RangeError('The data size must not be greater than 125 bytes'));
      return;
    }
    const key = mask && this._generateMask !== null ? this._maskKey() : undefined;
    this._settle(this._native.control(isPong, buf, !!mask, !!cb, key), cb);
  }

  /**
   * The masking key of the next frame from the client's `generateMask` (called with a 4-byte
   * Buffer to fill, per frame, as ws does), as the little-endian u32 Rust reads it back into
   * those 4 bytes.
   * @private
   */
  _maskKey() {
    const buf = this._maskBuf || (this._maskBuf = Buffer.alloc(4));
    this._generateMask(buf);
    return buf.readUInt32LE(0);
  }

  /**
   * Sends a data message.
   * @param {*} data a string, Buffer, ArrayBuffer, typed array, DataView or Blob
   * @param {{ binary?: boolean, compress?: boolean, fin?: boolean, mask?: boolean }} [options]
   * @param {Function} [cb] called once the data is written (or with an error)
   */
  send(data, options, cb) {
    if (this.readyState === WebSocket.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    if (typeof data === 'number') data = data.toString();
    if (this.readyState !== WebSocket.OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    // ws's own merge: `options`' own enumerable properties over the defaults. An object spread
    // is also the fastest way to read them (V8 clones the literal; 24 ns against 62 ns for three
    // propertyIsEnumerable calls, BENCHMARKS.md).
    const { binary, mask, fin } = { binary: typeof data !== 'string', mask: !this._isServer, fin: true, ...options };
    if (isBlob(data)) {
      this._queueBlob(data, (buf) => this._sendData(buf, binary, fin, mask, cb, true), cb);
      return;
    }
    if (!data) data = EMPTY_BUFFER;
    else if (typeof data !== 'string') data = toBuffer(data);
    if (this._blobQueue !== null) {
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      this._afterBlob(() => this._sendData(data, binary, fin, mask, cb, true), cb, bytes);
      return;
    }
    this._sendData(data, binary, fin, mask, cb);
  }

  /**
   * @param {boolean} [queued] the send waited behind a Blob: it was accepted while open, and
   *   goes out unless the connection is gone (a close() made meanwhile waits for it, as in ws)
   * @private
   */
  _sendData(data, binary, fin, mask, cb, queued = false) {
    if (this._native === null || (queued ? this._readyState === WebSocket.CLOSED : this._readyState !== WebSocket.OPEN)) {
      sendAfterClose(this, data, cb);
      return;
    }
    const opcode = this._fragmenting ? 0 : binary ? 2 : 1;
    this._fragmenting = !fin;
    // One flags word (see `send_buffer` in src/ws/server.rs): opcode, FIN, MASK, NOTIFY.
    // 32: no earlier callback waits, so Rust may answer 3 (written whole now) instead of a
    // SENT record, and the callback runs in the next tick, as ws's does after its write.
    const flags = opcode | (fin ? 4 : 0) | (mask ? 8 : 0) | (cb ? (this._sendCallbacks.length === 0 ? 48 : 16) : 0);
    let status;
    if (mask && this._generateMask !== null) {
      const key = this._maskKey();
      status =
        typeof data === 'string'
          ? this._native.sendStringKeyed(data, flags, key)
          : this._native.sendBufferKeyed(data, flags, key);
    } else {
      status = typeof data === 'string' ? this._native.sendString(data, flags) : this._native.sendBuffer(data, flags);
    }
    this._settle(status, cb);
  }

  /** Handles what Rust said about a queued frame. @private */
  _settle(status, cb) {
    if (status === 0) {
      if (cb) this._sendCallbacks.push(cb);
      return;
    }
    if (status === 3) {
      process.nextTick(cb, null);
      return;
    }
    if (!cb) return;
    const err =
      status === 2
        ? Object.assign(new Error('The message was dropped: the backpressure limit was exceeded'), {
            code: 'WS_ERR_BACKPRESSURE',
          })
        : new Error('WebSocket is not open: readyState 2 (CLOSING)');
    process.nextTick(cb, err);
  }

  /**
   * Blobs are read asynchronously; sends, pings, pongs and the close frame after one wait for it,
   * to keep the order. Each waiting entry is `{ run, cb, failed, bytes }`: `run` (null while its
   * Blob is read) sends it; when the connection was terminated meanwhile, or a Blob before it
   * could not be read (`failed`), its callback `cb` gets the error instead.
   * @private
   */
  _queueBlob(blob, then, cb) {
    const queue = this._blobQueue || (this._blobQueue = []);
    const entry = { run: null, cb, failed: null, bytes: blob.size };
    queue.push(entry);
    this._blobQueueBytes += entry.bytes;
    blob.arrayBuffer().then(
      (ab) => {
        entry.run = () => then(Buffer.from(ab));
        this._runBlobQueue(queue);
      },
      (err) => {
        entry.failed = err;
        this._runBlobQueue(queue);
      },
    );
  }

  /** Queues a send, ping, pong (of `bytes` payload bytes) or close behind a Blob being read. @private */
  _afterBlob(run, cb = undefined, bytes = 0) {
    this._blobQueue.push({ run, cb, failed: null, bytes });
    this._blobQueueBytes += bytes;
  }

  /** Sends what is ready at the head of `queue`, in order. @private */
  _runBlobQueue(queue) {
    if (this._blobQueue !== queue) return;
    const ready = [];
    while (queue.length !== 0 && queue[0].run !== null) ready.push(queue.shift());
    const failed = queue.length !== 0 ? queue[0].failed : null;
    if (failed !== null || queue.length === 0) {
      this._blobQueue = null;
      this._blobQueueBytes = 0;
    } else {
      for (const entry of ready) this._blobQueueBytes -= entry.bytes;
    }
    if (this._terminated || this._readyState === WebSocket.CLOSED) {
      // As ws: every callback waiting behind the Blob gets the same error, in the next tick.
      const gone = new Error('The socket was closed while the blob was being read');
      process.nextTick(() => {
        for (const entry of ready) entry.cb?.(gone);
      });
    } else {
      for (const entry of ready) entry.run();
    }
    if (failed !== null) process.nextTick(blobFailed, this, failed, queue.splice(0));
  }

  /**
   * Sends the close frame through Rust, after what waits behind a Blob.
   * @private
   */
  _sendClose(code, reason) {
    const send = () => this._native.close(code, reason, this._generateMask !== null ? this._maskKey() : undefined);
    if (this._blobQueue !== null) this._afterBlob(send);
    else send();
  }

  /** Sends a close frame unless one was sent: the answer to the peer's, or to an error. @private */
  _closeOnce(code, reason) {
    if (this._closeFrameSent || this._native === null) return;
    this._closeFrameSent = true;
    this._sendClose(code, reason);
  }

  /** Destroys the connection at once. */
  terminate() {
    if (this.readyState === WebSocket.CLOSED) return;
    if (this.readyState === WebSocket.CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this._native) {
      this._readyState = WebSocket.CLOSING;
      this._terminated = true;
      this._native.terminate();
    }
  }

  /** (server side) Subscribes to `topic`; false if it already was. */
  subscribe(topic) {
    return this._native !== null && this._native.subscribe(String(topic));
  }

  /** (server side) Unsubscribes from `topic`; false if it was not subscribed. */
  unsubscribe(topic) {
    return this._native !== null && this._native.unsubscribe(String(topic));
  }

  /** (server side) Whether the connection is subscribed to `topic`. */
  isSubscribed(topic) {
    return this._native !== null && this._native.isSubscribed(String(topic));
  }
}

for (const [i, name] of readyStates.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: i });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: i });
}
for (const p of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, p, { enumerable: true });
}
defineEventAttributes(WebSocket.prototype);

function protocolsFrom(options) {
  if (!options || options.protocols === undefined) return [];
  return Array.isArray(options.protocols) ? options.protocols : [options.protocols];
}

/** send/ping/pong when CLOSING or CLOSED: counted in bufferedAmount; cb gets an error. */
function sendAfterClose(websocket, data, cb) {
  if (data) {
    websocket._bufferedAmount += isBlob(data)
      ? data.size
      : typeof data === 'string'
        ? Buffer.byteLength(data)
        : toBuffer(data).length;
  }
  if (cb) {
    const state = websocket.readyState;
    process.nextTick(cb, new Error(`WebSocket is not open: readyState ${state} (${readyStates[state]})`));
  }
}

/**
 * A Blob could not be read (as ws's sender): its callback and every one waiting behind it get
 * the error, nothing behind it is sent, and the connection ends with an 'error'.
 */
function blobFailed(websocket, err, entries) {
  for (const entry of entries) entry.cb?.(err);
  if (websocket._readyState === WebSocket.CLOSED) return;
  if (websocket._readyState === WebSocket.OPEN) websocket._readyState = WebSocket.CLOSING;
  if (websocket._native !== null && !websocket._terminated) websocket._native.end(true);
  if (!websocket._errorEmitted) {
    websocket._errorEmitted = true;
    websocket.emit('error', err);
  }
}

function finishNT(websocket) {
  websocket._flushHeld();
  websocket._finish();
}

function emitErrorAndClose(websocket, err) {
  websocket._readyState = WebSocket.CLOSING;
  websocket._errorEmitted = true;
  websocket.emit('error', err);
  websocket.emitClose();
}

/** Fails the opening handshake: aborts the request or destroys the socket, then error + close. */
function abortHandshake(websocket, stream, message) {
  websocket._readyState = WebSocket.CLOSING;
  const err = new Error(message);
  Error.captureStackTrace(err, abortHandshake);
  if (stream.setHeader) {
    stream[kAborted] = true;
    stream.abort();
    if (stream.socket && !stream.socket.destroyed) stream.socket.destroy();
    process.nextTick(emitErrorAndClose, websocket, err);
  } else {
    stream.destroy(err);
    stream.once('error', websocket.emit.bind(websocket, 'error'));
    stream.once('close', websocket.emitClose.bind(websocket));
  }
}

function netConnect(options) {
  options.path = options.socketPath;
  return net.connect(options);
}

function tlsConnect(options) {
  options.path = undefined;
  if (!options.servername && options.servername !== '') {
    options.servername = net.isIP(options.host) ? '' : options.host;
  }
  return tls.connect(options);
}

/**
 * Starts a client's opening handshake (and each redirect's). Returns the resolved options.
 */
function initAsClient(websocket, address, protocols, options) {
  const opts = {
    allowSynchronousEvents: true,
    autoPong: true,
    closeTimeout: CLOSE_TIMEOUT,
    protocolVersion: protocolVersions[1],
    maxBufferedChunks: 256 * 1024,
    maxFragments: 16 * 1024,
    maxPayload: 100 * 1024 * 1024,
    maxPendingAutoPongs: 60,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...options,
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    protocols: undefined,
    timeout: undefined,
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
  };

  if (!protocolVersions.includes(opts.protocolVersion)) {
    throw new RangeError(
      `Unsupported protocol version: ${opts.protocolVersion} (supported versions: ${protocolVersions.join(', ')})`,
    );
  }

  let parsedUrl;
  if (address instanceof URL) {
    parsedUrl = address;
  } else {
    try {
      parsedUrl = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (parsedUrl.protocol === 'http:' || parsedUrl.protocol === 'https:') {
    parsedUrl = new URL(parsedUrl);
    parsedUrl.protocol = parsedUrl.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  websocket._url = parsedUrl.href;

  const isSecure = parsedUrl.protocol === 'wss:';
  const isIpcUrl = parsedUrl.protocol === 'ws+unix:';
  let invalidUrlMessage;
  if (parsedUrl.protocol !== 'ws:' && !isSecure && !isIpcUrl) {
    invalidUrlMessage = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (isIpcUrl && !parsedUrl.pathname) {
    invalidUrlMessage = "The URL's pathname is empty";
  } else if (parsedUrl.hash) {
    invalidUrlMessage = 'The URL contains a fragment identifier';
  }
  if (invalidUrlMessage) {
    const err = new SyntaxError(invalidUrlMessage);
    if (websocket._redirects === 0) throw err;
    emitErrorAndClose(websocket, err);
    return opts;
  }

  const defaultPort = isSecure ? 443 : 80;
  const key = randomBytes(16).toString('base64');
  const request = isSecure ? https.request : http.request;
  const protocolSet = new Set();

  opts.createConnection = opts.createConnection || (isSecure ? tlsConnect : netConnect);
  opts.defaultPort = opts.defaultPort || defaultPort;
  opts.port = parsedUrl.port || defaultPort;
  opts.host = parsedUrl.hostname.startsWith('[') ? parsedUrl.hostname.slice(1, -1) : parsedUrl.hostname;
  opts.headers = {
    ...opts.headers,
    'Sec-WebSocket-Version': opts.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.path = parsedUrl.pathname + parsedUrl.search;
  opts.timeout = opts.handshakeTimeout;

  if (protocols.length) {
    for (const protocol of protocols) {
      if (typeof protocol !== 'string' || !subprotocolRegex.test(protocol) || protocolSet.has(protocol)) {
        throw new SyntaxError('An invalid or duplicated subprotocol was specified');
      }
      protocolSet.add(protocol);
    }
    opts.headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  }
  if (opts.origin) {
    if (opts.protocolVersion < 13) opts.headers['Sec-WebSocket-Origin'] = opts.origin;
    else opts.headers.Origin = opts.origin;
  }
  if (parsedUrl.username || parsedUrl.password) {
    opts.auth = `${decodeURIComponent(parsedUrl.username)}:${decodeURIComponent(parsedUrl.password)}`;
  }
  if (isIpcUrl) {
    const i = opts.path.indexOf(':');
    if (i === -1) {
      opts.socketPath = opts.path;
      opts.path = '';
    } else {
      opts.socketPath = opts.path.slice(0, i);
      opts.path = opts.path.slice(i + 1);
    }
  }

  let req;
  if (opts.followRedirects) {
    if (websocket._redirects === 0) {
      websocket._originalIpc = isIpcUrl;
      websocket._originalSecure = isSecure;
      websocket._originalHostOrSocketPath = isIpcUrl ? opts.socketPath : parsedUrl.host;
      const headers = options && options.headers;
      // Lower-case copies, so a redirect can drop credentials without touching the caller's.
      options = { ...options, headers: {} };
      if (headers) {
        for (const [k, v] of Object.entries(headers)) options.headers[k.toLowerCase()] = v;
      }
    } else if (websocket.listenerCount('redirect') === 0) {
      const isSameHost = isIpcUrl
        ? websocket._originalIpc
          ? opts.socketPath === websocket._originalHostOrSocketPath
          : false
        : websocket._originalIpc
          ? false
          : parsedUrl.host === websocket._originalHostOrSocketPath;
      if (!isSameHost || (websocket._originalSecure && !isSecure)) {
        // Like curl: credentials do not follow a redirect to another host or to plain text.
        delete opts.headers.authorization;
        delete opts.headers.cookie;
        if (!isSameHost) delete opts.headers.host;
        opts.auth = undefined;
      }
    }
    if (opts.auth && !options.headers.authorization) {
      options.headers.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
    }
    req = websocket._req = request(opts);
    if (websocket._redirects) websocket.emit('redirect', websocket.url, req);
  } else {
    req = websocket._req = request(opts);
  }

  if (opts.timeout) {
    req.on('timeout', () => {
      abortHandshake(websocket, req, 'Opening handshake has timed out');
    });
  }

  req.on('error', (err) => {
    if (req === null || req[kAborted]) return;
    req = websocket._req = null;
    emitErrorAndClose(websocket, err);
  });

  req.on('response', (res) => {
    const location = res.headers.location;
    const statusCode = res.statusCode;
    if (location && opts.followRedirects && statusCode >= 300 && statusCode < 400) {
      if (++websocket._redirects > opts.maxRedirects) {
        abortHandshake(websocket, req, 'Maximum redirects exceeded');
        return;
      }
      req.abort();
      let addr;
      try {
        addr = new URL(location, address);
      } catch {
        emitErrorAndClose(websocket, new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      initAsClient(websocket, addr, protocols, options);
    } else if (!websocket.emit('unexpected-response', req, res)) {
      abortHandshake(websocket, req, `Unexpected server response: ${res.statusCode}`);
    }
  });

  req.on('upgrade', (res, socket, head) => {
    websocket.emit('upgrade', res);
    // A listener of 'upgrade' may have closed the connection.
    if (websocket.readyState !== WebSocket.CONNECTING) return;
    req = websocket._req = null;

    const upgrade = res.headers.upgrade;
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      abortHandshake(websocket, socket, 'Invalid Upgrade header');
      return;
    }
    const digest = createHash('sha1').update(key + GUID).digest('base64');
    if (res.headers['sec-websocket-accept'] !== digest) {
      abortHandshake(websocket, socket, 'Invalid Sec-WebSocket-Accept header');
      return;
    }
    const serverProt = res.headers['sec-websocket-protocol'];
    let protError;
    if (serverProt !== undefined) {
      if (!protocolSet.size) protError = 'Server sent a subprotocol but none was requested';
      else if (!protocolSet.has(serverProt)) protError = 'Server sent an invalid subprotocol';
    } else if (protocolSet.size) {
      protError = 'Server sent no subprotocol';
    }
    if (protError) {
      abortHandshake(websocket, socket, protError);
      return;
    }
    if (serverProt) websocket._protocol = serverProt;
    if (res.headers['sec-websocket-extensions'] !== undefined) {
      // No extension is ever offered (permessage-deflate is not implemented).
      abortHandshake(
        websocket,
        socket,
        'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
      );
      return;
    }
    websocket._adopt(getClientHub(), socket, head, EMPTY_BUFFER, opts);
  });

  if (opts.finishRequest) opts.finishRequest(req, websocket);
  else req.end();
  return opts;
}

module.exports = WebSocket;
// Shared with websocket-server.js; not part of the public module shape.
Object.defineProperty(WebSocket, 'internals', {
  value: { isValidStatusCode, GUID, CLOSE_TIMEOUT, kStatusCode },
});
