'use strict';

/**
 * ferrocast: real-time event processing for Node.js, in Rust.
 *
 * Every class extends ferrocast's EventEmitter (itself an extension of node's), so each one
 * drops into code written against node:events.
 */

const EventEmitter = require('./events');
const binding = require('./binding');
const { EventBuffer } = require('./lib/event-buffer');
const { EventAggregator } = require('./lib/event-aggregator');
const { MetricWindow } = require('./lib/metric-window');
const { CircuitBreaker } = require('./lib/circuit-breaker');
const { debugEvent, monitorListeners, traceEvents } = require('./lib/debug');
const { RealTimeDashboard } = require('./lib/dashboard');
const transforms = require('./lib/transforms');
const WebSocket = require('./ws');

module.exports = {
  EventEmitter,
  EventBuffer,
  EventAggregator,
  MetricWindow,
  runtimeInfo: binding.runtimeInfo,
  CircuitBreaker,
  debugEvent,
  monitorListeners,
  traceEvents,
  RealTimeDashboard,
  transforms,
  WebSocket,
  WebSocketServer: WebSocket.WebSocketServer,
  createWebSocketStream: WebSocket.createWebSocketStream,
};
