'use strict';

const assert = require('node:assert');
const NodeEmitter = require('node:events');
const EventEmitter = require('../events');
const { debugEvent, monitorListeners, traceEvents } = require('../lib/debug');
const { runNode } = require('./helpers');

// A logger that keeps what it is given.
function memoryLogger({ withTrace = true, withWarn = true } = {}) {
  const logger = { lines: [], warnings: [], traces: [], log: (...a) => logger.lines.push(a) };
  if (withTrace) logger.trace = (...a) => logger.traces.push(a);
  if (withWarn) logger.warn = (...a) => logger.warnings.push(a);
  return logger;
}

// Resolves after the monitor has logged `n` more checks (a check starts with this line).
function checks(logger, n) {
  const target = logger.lines.filter((l) => l[0] === 'Event listener count:').length + n;
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (logger.lines.filter((l) => l[0] === 'Event listener count:').length >= target) {
        clearInterval(poll);
        resolve();
      }
    }, 2);
  });
}

describe('debugging helpers', function () {
  describe('debugEvent', function () {
    it('logs the seed\'s line for the named event only, and the emit still works', function () {
      const e = new EventEmitter();
      const logger = memoryLogger();
      const got = [];
      e.on('importantEvent', (...a) => got.push(a));
      debugEvent(e, 'importantEvent', { logger });
      assert.strictEqual(e.emit('importantEvent', 1, 'two'), true);
      assert.strictEqual(e.emit('other', 3), false);
      assert.deepStrictEqual(logger.lines, [['[DEBUG] Event "importantEvent" emitted with args:', [1, 'two']]]);
      assert.deepStrictEqual(got, [[1, 'two']]);
      assert.deepStrictEqual(logger.traces, [], 'no stack trace unless asked');
    });

    it("'*' logs every event, symbols included", function () {
      const e = new NodeEmitter();
      const logger = memoryLogger();
      const sym = Symbol('tick');
      debugEvent(e, '*', { logger });
      e.emit('a');
      e.emit(sym, 1);
      assert.deepStrictEqual(
        logger.lines.map((l) => l[0]),
        ['[DEBUG] Event "a" emitted with args:', '[DEBUG] Event "Symbol(tick)" emitted with args:'],
      );
    });

    it('trace: true adds a stack trace (logger.trace, or the stack through log)', function () {
      const e = new EventEmitter();
      const logger = memoryLogger();
      debugEvent(e, 'x', { logger, trace: true });
      e.emit('x');
      assert.deepStrictEqual(logger.traces, [['Stack trace:']]);

      const plain = memoryLogger({ withTrace: false });
      const e2 = new EventEmitter();
      debugEvent(e2, 'x', { logger: plain, trace: true });
      e2.emit('x');
      assert.strictEqual(plain.lines.length, 2);
      assert.match(plain.lines[1][0], /^Stack trace:\n\s+at /);
    });

    it('logs to console by default', function () {
      const e = new EventEmitter();
      const original = console.log;
      const seen = [];
      console.log = (...a) => seen.push(a);
      try {
        const restore = debugEvent(e, 'ping');
        e.emit('ping', 42);
        restore();
      } finally {
        console.log = original;
      }
      assert.deepStrictEqual(seen, [['[DEBUG] Event "ping" emitted with args:', [42]]]);
    });

    it('restore() puts the emitter back exactly, and is idempotent', function () {
      const e = new EventEmitter();
      const logger = memoryLogger();
      const restore = debugEvent(e, 'x', { logger });
      assert.ok(Object.prototype.hasOwnProperty.call(e, 'emit'));
      restore();
      restore();
      assert.ok(!Object.prototype.hasOwnProperty.call(e, 'emit'));
      assert.strictEqual(e.emit, EventEmitter.prototype.emit);
      e.emit('x');
      assert.deepStrictEqual(logger.lines, []);

      // An own emit that was there before comes back.
      const own = function emit(...a) {
        return EventEmitter.prototype.emit.apply(this, a);
      };
      const e2 = new EventEmitter();
      e2.emit = own;
      debugEvent(e2, 'x', { logger })();
      assert.strictEqual(e2.emit, own);
    });

    it('restore() out of order keeps the other wrapper working', function () {
      const e = new EventEmitter();
      const first = memoryLogger();
      const second = memoryLogger();
      const restoreFirst = debugEvent(e, 'x', { logger: first });
      const restoreSecond = debugEvent(e, 'x', { logger: second });
      restoreFirst();
      e.emit('x');
      assert.strictEqual(first.lines.length, 0);
      assert.strictEqual(second.lines.length, 1);
      restoreSecond();
      e.emit('x');
      assert.strictEqual(second.lines.length, 1);
    });

    it('validates its arguments', function () {
      const e = new EventEmitter();
      assert.throws(() => debugEvent({}, 'x'), { code: 'ERR_INVALID_ARG_TYPE', message: /"emitter" argument must be an instance of EventEmitter/ });
      assert.throws(() => debugEvent(e, 3), { code: 'ERR_INVALID_ARG_TYPE', message: /"eventName" argument must be of type string or symbol/ });
      assert.throws(() => debugEvent(e, 'x', { logger: {} }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.logger"/ });
      assert.throws(() => debugEvent(e, 'x', { trace: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.trace" argument must be of type boolean/ });
    });
  });

  describe('monitorListeners', function () {
    it('logs the listener count of each event every interval', async function () {
      const e = new EventEmitter();
      e.on('data', () => {});
      e.on('data', () => {});
      e.on('end', () => {});
      const logger = memoryLogger();
      const stop = monitorListeners(e, { interval: 5, logger });
      await checks(logger, 1);
      stop();
      assert.deepStrictEqual(logger.lines.slice(0, 3), [['Event listener count:'], [' - data: 2'], [' - end: 1']]);
      assert.deepStrictEqual(logger.warnings, []);
    });

    it('warns when a count grows on `threshold` checks in a row', async function () {
      const e = new EventEmitter();
      e.setMaxListeners(0);
      e.on('leak', () => {});
      const logger = memoryLogger();
      const stop = monitorListeners(e, { interval: 5, threshold: 2, logger });
      for (let i = 0; i < 2; i++) {
        e.on('leak', () => {});
        await checks(logger, 1);
      }
      stop();
      assert.strictEqual(logger.warnings.length, 1, JSON.stringify(logger.warnings));
      assert.match(logger.warnings[0][0], /possible listener leak: "leak" listeners grew on 2 checks in a row \(1 -> 3\)/);
    });

    it('does not warn when a count goes up and down', async function () {
      const e = new EventEmitter();
      const logger = memoryLogger({ withWarn: false });
      const stop = monitorListeners(e, { interval: 5, threshold: 2, logger });
      const l = () => {};
      for (let i = 0; i < 3; i++) {
        e.on('flap', l);
        await checks(logger, 1);
        e.off('flap', l);
        await checks(logger, 1);
      }
      stop();
      assert.ok(!logger.lines.some((line) => /leak/.test(line[0])), 'warned without a leak');
    });

    it('without logger.warn, warns through logger.log', async function () {
      const e = new EventEmitter();
      const logger = memoryLogger({ withWarn: false });
      const stop = monitorListeners(e, { interval: 5, threshold: 1, logger });
      e.on('x', () => {});
      await checks(logger, 1);
      stop();
      assert.ok(logger.lines.some((line) => /possible listener leak: "x"/.test(line[0])));
    });

    it('stop() stops the checks and is idempotent', async function () {
      const e = new EventEmitter();
      const logger = memoryLogger();
      const stop = monitorListeners(e, { interval: 5, logger });
      await checks(logger, 1);
      stop();
      stop();
      const n = logger.lines.length;
      await new Promise((r) => setTimeout(r, 40));
      assert.strictEqual(logger.lines.length, n);
    });

    it('never keeps the process alive', async function () {
      const r = await runNode(
        `
        const { monitorListeners } = require('./lib/debug');
        const EventEmitter = require('./events');
        const e = new EventEmitter();
        e.on('x', () => {});
        monitorListeners(e, { interval: 10 });
        setTimeout(() => console.log('done'), 50);
      `,
        { limit: 5000 },
      );
      assert.strictEqual(r.signal, null, 'the process had to be killed');
      assert.strictEqual(r.code, 0, r.stderr);
      assert.match(r.stdout, / - x: 1/);
      assert.match(r.stdout, /^done$/m);
    });

    it('validates its options', function () {
      const e = new EventEmitter();
      assert.throws(() => monitorListeners(e, { interval: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /"options.interval"/ });
      assert.throws(() => monitorListeners(e, { threshold: 0.5 }), { code: 'ERR_OUT_OF_RANGE', message: /"options.threshold"/ });
      assert.throws(() => monitorListeners(e, { logger: 5 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.logger"/ });
      assert.throws(() => monitorListeners({ emit() {} }), { code: 'ERR_INVALID_ARG_TYPE', message: /"emitter"/ });
    });
  });

  describe('traceEvents', function () {
    it('counts emits per event and reports rates', async function () {
      const e = new EventEmitter();
      const sym = Symbol('s');
      const t = traceEvents(e);
      for (let i = 0; i < 5; i++) e.emit('a');
      e.emit('b', 1);
      e.emit(sym);
      await new Promise((r) => setTimeout(r, 20));
      const s = t.stats();
      assert.strictEqual(s.a.count, 5);
      assert.strictEqual(s.b.count, 1);
      assert.strictEqual(s[sym].count, 1);
      assert.ok(s.a.rate > 0 && s.a.rate > s.b.rate);
      assert.ok(Math.abs(s.a.rate / s.b.rate - 5) < 1e-9);
      t.stop();
    });

    it('reset() zeroes the counts; stop() restores emit and keeps the counts', function () {
      const e = new EventEmitter();
      const t = traceEvents(e);
      e.emit('a');
      t.reset();
      assert.deepStrictEqual(t.stats(), {});
      e.emit('a');
      t.stop();
      t.stop();
      assert.ok(!Object.prototype.hasOwnProperty.call(e, 'emit'));
      e.emit('a');
      assert.strictEqual(t.stats().a.count, 1);
    });

    it('leaves emit semantics alone (return value, error without listener)', function () {
      const e = new EventEmitter();
      const t = traceEvents(e);
      assert.strictEqual(e.emit('nobody'), false);
      e.on('x', () => {});
      assert.strictEqual(e.emit('x'), true);
      assert.throws(() => e.emit('error', new Error('unhandled')), /unhandled/);
      assert.strictEqual(t.stats().error.count, 1);
      t.stop();
    });
  });
});
