'use strict';

/**
 * createWebSocketStream(ws, options): a Duplex over a WebSocket, as `ws` provides it. Messages
 * become readable chunks (the socket pauses when the reader does); written chunks are sent as
 * messages; ending the writable side starts the closing handshake; destroying the stream
 * terminates the socket.
 */

const { Duplex } = require('node:stream');
const { kClosingDone } = require('./ws-hub');

function emitClose(stream) {
  stream.emit('close');
}

function duplexOnEnd() {
  if (!this.destroyed && this._writableState.finished) this.destroy();
}

function duplexOnError(err) {
  this.removeListener('error', duplexOnError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

/**
 * @param {import('./websocket')} ws
 * @param {import('stream').DuplexOptions} [options]
 * @returns {Duplex}
 */
function createWebSocketStream(ws, options) {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  ws.on('message', (msg, isBinary) => {
    const data = !isBinary && duplex._readableState.objectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (err) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = function (err, callback) {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      process.nextTick(emitClose, duplex);
      return;
    }
    let called = false;
    ws.once('error', (e) => {
      called = true;
      callback(e);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = function (callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws.readyState === ws.CLOSED || (ws._closeFrameSent && ws._closeFrameReceived)) {
      // Closed, or the closing handshake is over: ws's socket has finished.
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
      return;
    }
    // Done when the closing handshake is (where ws waits for its socket's 'finish'), so that
    // 'finish' comes before the WebSocket's 'close' and the 'end' after it destroys the stream;
    // or, when the connection ends without one, on 'close'.
    let called = false;
    const done = () => {
      if (called) return;
      called = true;
      callback();
    };
    ws[kClosingDone] = done;
    ws.once('close', done);
    ws.close();
  };

  duplex._read = function () {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = function (chunk, encoding, callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}

module.exports = createWebSocketStream;
