'use strict';

/**
 * ferrocast: real-time event processing for Node.js, in Rust.
 *
 * Every class extends ferrocast's EventEmitter (itself an extension of node's), so each one
 * drops into code written against node:events.
 */

const EventEmitter = require('./events');
const binding = require('./binding');
const transforms = require('./lib/transforms');

module.exports = {
  EventEmitter,
  runtimeInfo: binding.runtimeInfo,
  transforms,
};
