'use strict';

// The seed's event-processing examples run against ferrocast with only the require changed.

const assert = require('node:assert');
const path = require('node:path');
const { runFile } = require('./helpers');

const dir = path.join(__dirname, '..', 'examples');

describe('examples (the seed, with the require changed)', function () {
  it('event-aggregation.js: the callback gets every event once both fired', async function () {
    const r = await runFile(path.join(dir, 'event-aggregation.js'), { limit: 5000 });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(
      r.stdout.trim(),
      "All events received: { userLoggedIn: { user: 'ada' }, dataLoaded: { rows: 3 } }",
    );
  });

  it('event-buffering.js: one batch after the burst goes quiet, then the process exits', async function () {
    const r = await runFile(path.join(dir, 'event-buffering.js'), { limit: 8000 });
    assert.strictEqual(r.signal, null, 'the example did not exit by itself');
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout.trim(), 'Processing batch: 25 events');
  });
});
