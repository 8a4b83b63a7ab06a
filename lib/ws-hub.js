'use strict';

/**
 * WsHub: the JS end of a NativeWsHub (src/ws/server.rs). It adopts upgraded sockets into Rust
 * and dispatches the records of the hub's one bridge to the WebSocket each belongs to, in
 * order. It keeps the event loop alive exactly while it has connections.
 *
 * Adoption: a plain TCP or Unix socket's file descriptor is duplicated in Rust and the Node
 * socket is destroyed (closing one of two descriptors sends no FIN; nothing was written to it,
 * so nothing is lost). Bytes Node had already read go along with `head`. A socket with no file
 * descriptor (TLS, an in-memory Duplex) stays in Node and bytes are pumped through JS.
 */

const { NativeWsHub, NativeWsConnection, fastCallMethods } = require('../binding');

// The per-message calls (sends, broadcast, publish) as plain Node-API callbacks, without
// napi-rs's per-call borrow tracking (src/ws/fast_call.rs): same names, arguments and results
// as the generated methods.
const fast = fastCallMethods();
Object.assign(NativeWsConnection.prototype, fast.connection);
Object.assign(NativeWsHub.prototype, fast.hub);

/** Record kinds; see `connection::record` in src/ws/connection.rs. */
const RECORD = {
  TEXT: 0,
  BINARY: 1,
  PING: 2,
  PONG: 3,
  CLOSE_FRAME: 4,
  ERROR: 5,
  CLOSED: 6,
  SENT: 7,
  DRAIN: 8,
  DROPPED: 9,
  OUT: 10,
  END: 11,
  DESTROY: 12,
  PEER_END: 13,
};

const EMPTY = Buffer.alloc(0);

/** The file descriptor of a socket Rust can adopt, or -1. */
function adoptableFd(socket) {
  if (socket.encrypted) return -1;
  const handle = socket._handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0) return -1;
  if (socket.connecting || socket.destroyed) return -1;
  return handle.fd;
}

/** Bytes Node has read from `socket` and not delivered yet. */
function takeBuffered(socket) {
  const state = socket._readableState;
  if (!state || state.length === 0) return null;
  const chunks = [];
  let chunk;
  while ((chunk = socket.read()) !== null) chunks.push(chunk);
  return chunks.length ? Buffer.concat(chunks) : null;
}

class WsHub {
  /** @param {{ maxBatch?: number, maxDelay?: number }} [bridgeOptions] */
  constructor(bridgeOptions) {
    /** @type {Map<number, import('./websocket').WebSocket>} */
    this.connections = new Map();
    this.onEmpty = null;
    this._batchTarget = null;
    this._batchSize = 0;
    this._batch = null;
    this.native = new NativeWsHub(this._onBatch.bind(this), bridgeOptions || undefined);
  }

  /**
   * Delivers data messages as 'messages' events on `target` (arrays of at most `maxSize`
   * `{ ws, data, isBinary }`), instead of one 'message' event per message on each socket.
   */
  batchTo(target, maxSize) {
    this._batchTarget = target;
    this._batchSize = maxSize;
    this._batch = [];
  }

  _flushMessages() {
    const batch = this._batch;
    if (batch.length === 0) return;
    this._batch = [];
    this._batchTarget.emit('messages', batch);
  }

  /**
   * Moves `socket` into Rust for `ws`. `preamble` (the server's 101 response) is written before
   * any frame. Returns the NativeWsConnection.
   */
  adopt(ws, socket, head, preamble, options) {
    const fd = adoptableFd(socket);
    let native = null;
    if (fd >= 0) {
      // Cache the addresses so req.socket.remoteAddress & co. still answer after destroy().
      void socket.remoteAddress;
      void socket.localAddress;
      const rest = takeBuffered(socket);
      if (rest) head = head.length ? Buffer.concat([head, rest]) : rest;
      try {
        native = this.native.adoptFd(fd, head, preamble, options);
      } catch {
        // Not adoptable after all (an unusual descriptor): keep the socket in Node and pump.
        native = null;
      }
      if (native !== null) {
        socket.destroy();
        ws._transport = null;
      }
    }
    if (native === null) {
      if (preamble.length) socket.write(preamble);
      native = this.native.adoptStream(EMPTY, EMPTY, options);
      ws._transport = socket;
      pump(native, socket, head);
    }
    if (this.connections.size === 0) this.native.setRef(true);
    this.connections.set(native.id, ws);
    return native;
  }

  _onBatch(tags, numbers, bytes, ends, _dropped, _last) {
    if (tags === null) return;
    // Records arriving meanwhile wait for the end of this batch; with several records,
    // replies are queued and written by the runtime (corked).
    this.native.dispatch(true, tags.length > 1);
    try {
      this._dispatchBatch(tags, numbers, bytes, ends);
    } finally {
      this.native.dispatch(false, false);
    }
  }

  _dispatchBatch(tags, numbers, bytes, ends) {
    const batching = this._batch !== null;
    let start = 0;
    let lastTag = -1;
    let ws;
    for (let i = 0; i < tags.length; i++) {
      const end = ends[i];
      const tag = tags[i];
      if (tag !== lastTag) {
        ws = this.connections.get(tag);
        lastTag = tag;
      }
      if (ws !== undefined) {
        const n = numbers[i];
        try {
          // The common case first: a data message for a socket that emits as it goes.
          if (n < 2 && !batching && ws._direct) {
            ws.emit('message', bytes.subarray(start, end), n === 1);
          } else {
            this._record(ws, tag, n, bytes, start, end);
          }
        } catch (err) {
          // A listener threw: let it surface like an exception from a socket event in `ws`,
          // after the rest of the batch has been dispatched.
          process.nextTick(() => {
            throw err;
          });
        }
      }
      start = end;
    }
    if (batching) {
      try {
        this._flushMessages();
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  _record(ws, tag, n, bytes, start, end) {
    const kind = n % 16;
    const extra = (n - kind) / 16;
    if (kind === RECORD.CLOSED) {
      this.connections.delete(tag);
      if (this.connections.size === 0) {
        this.native.setRef(false);
        if (this.onEmpty) this.onEmpty();
      }
    }
    if (this._batch !== null && kind <= RECORD.BINARY && !ws._paused) {
      const isBinary = kind === RECORD.BINARY;
      const data = bytes.subarray(start, end);
      this._batch.push({ ws, data: isBinary ? ws._binary(data) : data, isBinary });
      if (this._batch.length >= this._batchSize) this._flushMessages();
    } else {
      if (this._batch !== null && kind <= RECORD.CLOSED) this._flushMessages();
      ws._onRecord(kind, extra, bytes, start, end);
    }
  }

}

/** Connects a Node stream that has no file descriptor to a native connection. */
function pump(native, socket, head) {
  if (socket.setTimeout) socket.setTimeout(0);
  if (socket.setNoDelay) socket.setNoDelay();
  if (head && head.length) native.feed(head);
  socket.on('data', (chunk) => native.feed(chunk));
  socket.on('end', () => native.endInput());
  socket.on('error', function onError() {
    this.destroy();
  });
  socket.on('close', () => native.terminate());
}

let clientHub = null;

/** The hub every client WebSocket of this thread shares. */
function getClientHub() {
  if (clientHub === null) clientHub = new WsHub();
  return clientHub;
}

/**
 * A WebSocket's one-shot hook for the end of its closing handshake (its close frame sent and
 * the peer's received), which createWebSocketStream waits for where ws waits for its socket's
 * 'finish'.
 */
const kClosingDone = Symbol('ferrocast.ws.closingDone');

module.exports = { WsHub, RECORD, getClientHub, kClosingDone };
