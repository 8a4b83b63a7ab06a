'use strict';

/**
 * ferrocast: real-time event processing for Node.js, in Rust.
 *
 * Every class extends ferrocast's EventEmitter (itself an extension of node's), so each one
 * drops into code written against node:events.
 */

const EventEmitter = require('./events');
const binding = require('./binding');
const WebSocket = require('./ws');

module.exports = {
  EventEmitter,
  runtimeInfo: binding.runtimeInfo,
  WebSocket,
  WebSocketServer: WebSocket.WebSocketServer,
  createWebSocketStream: WebSocket.createWebSocketStream,
};
