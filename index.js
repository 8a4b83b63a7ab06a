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

module.exports = {
  EventEmitter,
  EventBuffer,
  EventAggregator,
  MetricWindow,
  runtimeInfo: binding.runtimeInfo,
};
