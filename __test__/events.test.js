'use strict';

const assert = require('node:assert');
const nodeEvents = require('node:events');
const FerroEvents = require('../events');
const { EventEmitter: IndexEmitter } = require('..');

// Each scenario runs against node:events and ferrocast/events; the observed traces must match.
const scenarios = {
  'emit is synchronous and ordered'(events) {
    const e = new events.EventEmitter();
    const trace = [];
    e.on('x', (a, b) => trace.push(['first', a, b]));
    e.prependListener('x', () => trace.push(['prepended']));
    e.once('x', () => trace.push(['once']));
    trace.push(['before']);
    trace.push(['returned', e.emit('x', 1, 2)]);
    trace.push(['returned', e.emit('x', 3, 4)]);
    trace.push(['no listeners', e.emit('nothing')]);
    return trace;
  },
  "'error' without a listener throws"(events) {
    const e = new events();
    const trace = [];
    try {
      e.emit('error', new Error('boom'));
    } catch (err) {
      trace.push(['threw', err.message]);
    }
    try {
      e.emit('error', 'a string');
    } catch (err) {
      trace.push(['threw', err.code, err.message]);
    }
    e.on(events.errorMonitor, (err) => trace.push(['monitor', err.message]));
    try {
      e.emit('error', new Error('seen by monitor'));
    } catch (err) {
      trace.push(['threw', err.message]);
    }
    return trace;
  },
  'newListener and removeListener'(events) {
    const e = new events.EventEmitter();
    const trace = [];
    e.on('newListener', (name) => trace.push(['new', String(name)]));
    e.on('removeListener', (name) => trace.push(['removed', String(name)]));
    const f = () => {};
    e.on('a', f);
    e.once('b', f);
    e.off('a', f);
    e.emit('b');
    e.removeAllListeners('b');
    trace.push(['names', e.eventNames().map(String)]);
    return trace;
  },
  'max listeners warning'(events) {
    const e = new events.EventEmitter();
    const trace = [];
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    e.setMaxListeners(2);
    trace.push(['max', e.getMaxListeners()]);
    const orig = process.emitWarning;
    process.emitWarning = (w) => onWarning(w);
    try {
      for (let i = 0; i < 3; i++) e.on('leak', () => {});
    } finally {
      process.emitWarning = orig;
    }
    trace.push(['warned', warnings.length, warnings[0] && warnings[0].name, warnings[0] && warnings[0].count]);
    trace.push(['count', e.listenerCount('leak'), events.listenerCount(e, 'leak')]);
    trace.push(['getEventListeners', events.getEventListeners(e, 'leak').length]);
    return trace;
  },
  async 'captureRejections routes async listener errors to error'(events) {
    const e = new events.EventEmitter({ captureRejections: true });
    const trace = [];
    e.on('job', async () => {
      throw new Error('async failure');
    });
    const seen = new Promise((resolve) => e.on('error', (err) => resolve(err.message)));
    e.emit('job');
    trace.push(['error', await seen]);
    return trace;
  },
  async 'events.once and events.on'(events) {
    const e = new events.EventEmitter();
    const trace = [];
    setImmediate(() => e.emit('ready', 1, 2));
    trace.push(['once', await events.once(e, 'ready')]);
    const ac = new AbortController();
    setImmediate(() => {
      e.emit('tick', 'a');
      e.emit('tick', 'b');
      setImmediate(() => ac.abort());
    });
    try {
      for await (const args of events.on(e, 'tick', { signal: ac.signal })) trace.push(['on', args]);
    } catch (err) {
      trace.push(['aborted', err.name]);
    }
    const rejected = events.once(e, 'never', { signal: AbortSignal.abort() });
    await rejected.catch((err) => trace.push(['once aborted', err.name, err.code]));
    return trace;
  },
  'statics and symbols'(events) {
    return [
      ['defaultMaxListeners', events.defaultMaxListeners],
      ['captureRejectionSymbol', events.captureRejectionSymbol === nodeEvents.captureRejectionSymbol],
      ['errorMonitor', events.errorMonitor === nodeEvents.errorMonitor],
      ['self', events.EventEmitter === events],
      ['keys', Object.keys(events).sort()],
      ['types', ['once', 'on', 'getEventListeners', 'setMaxListeners', 'listenerCount'].map((k) => typeof events[k])],
    ];
  },
  'subclassing as the seed does'(events) {
    class OrderSystem extends events {
      constructor() {
        super();
        this.orders = [];
      }
      addOrder(order) {
        this.orders.push(order);
        this.emit('orderPlaced', order);
      }
    }
    const trace = [];
    const s = new OrderSystem();
    s.on('orderPlaced', (o) => trace.push(['placed', o.id]));
    s.addOrder({ id: 1, item: 'pizza' });
    trace.push(['instanceof node', s instanceof nodeEvents.EventEmitter]);
    return trace;
  },
};

describe('EventEmitter (ferrocast/events)', function () {
  it('is the module itself and extends node:events', function () {
    assert.strictEqual(typeof FerroEvents, 'function');
    assert.strictEqual(FerroEvents.EventEmitter, FerroEvents);
    assert.strictEqual(IndexEmitter, FerroEvents);
    assert.notStrictEqual(FerroEvents, nodeEvents);
    assert.ok(new FerroEvents() instanceof nodeEvents.EventEmitter);
  });

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`behaves like node:events: ${name}`, async function () {
      const expected = await scenario(nodeEvents);
      const actual = await scenario(FerroEvents);
      assert.deepStrictEqual(actual, expected);
    });
  }

  it('shares defaultMaxListeners with node:events', function () {
    const before = nodeEvents.defaultMaxListeners;
    try {
      FerroEvents.defaultMaxListeners = 17;
      assert.strictEqual(nodeEvents.defaultMaxListeners, 17);
      assert.strictEqual(new FerroEvents().getMaxListeners(), 17);
    } finally {
      nodeEvents.defaultMaxListeners = before;
    }
  });
});
