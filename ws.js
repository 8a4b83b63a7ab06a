'use strict';

/**
 * `require('ferrocast/ws')`: a drop-in for `require('ws')`. The module is the WebSocket class
 * and carries WebSocketServer (also as Server), createWebSocketStream and the readyState
 * constants. Framing and I/O run in Rust; the API and its errors are those of `ws` 8.
 */

const WebSocket = require('./lib/websocket');
const WebSocketServer = require('./lib/websocket-server');
const createWebSocketStream = require('./lib/websocket-stream');

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

module.exports = WebSocket;
