'use strict';

const assert = require('node:assert');
const ferrocast = require('..');
const { runNode } = require('./helpers');

describe('event-processing exports', function () {
  it('CommonJS: EventBuffer, EventAggregator and MetricWindow extend ferrocast EventEmitter', function () {
    for (const name of ['EventBuffer', 'EventAggregator', 'MetricWindow']) {
      assert.strictEqual(typeof ferrocast[name], 'function', name);
      assert.ok(ferrocast[name].prototype instanceof ferrocast.EventEmitter, name);
    }
  });

  it('ESM: the same classes as named exports and on the default export', async function () {
    const r = await runNode(
      `import f, { EventBuffer, EventAggregator, MetricWindow } from 'ferrocast';
       console.log(JSON.stringify([f.EventBuffer === EventBuffer, f.EventAggregator === EventAggregator,
         f.MetricWindow === MetricWindow, typeof EventBuffer]));`,
      { args: ['--input-type=module'] },
    );
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), [true, true, true, 'function']);
  });
});
