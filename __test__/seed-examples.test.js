'use strict';

// The seed's EventEmitter, memory-management and error-handling examples run against
// ferrocast/events with only the require line changed, and print what they print on node:events.

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runFile } = require('./helpers');

const dir = path.join(__dirname, '..', 'examples');

// Runs the example as written, and a copy whose require line is switched back to node:events.
async function runBoth(name) {
  const file = path.join(dir, name);
  const source = fs.readFileSync(file, 'utf8');
  const nodeVersion = source.replace("require('ferrocast/events')", "require('events')");
  assert.notStrictEqual(nodeVersion, source, 'the example should require ferrocast/events');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferrocast-seed-'));
  const copy = path.join(tmp, name);
  fs.writeFileSync(copy, nodeVersion);
  try {
    const [ours, theirs] = await Promise.all([runFile(file), runFile(copy)]);
    return { ours, theirs };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

describe('seed examples on ferrocast/events', function () {
  it('order-system.js prints what it prints on node:events', async function () {
    const { ours, theirs } = await runBoth('order-system.js');
    assert.strictEqual(ours.code, 0, ours.stderr);
    assert.strictEqual(ours.stdout, 'New order received: 1\nProcessing order: 1\n');
    assert.strictEqual(ours.stdout, theirs.stdout);
  });

  it('memory-and-errors.js prints what it prints on node:events', async function () {
    const { ours, theirs } = await runBoth('memory-and-errors.js');
    assert.strictEqual(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /Data received: 42\n/);
    assert.doesNotMatch(ours.stdout, /43/);
    assert.match(ours.stdout, /max listeners: 20 listeners: 1\nafter destroy: 0\n/);
    assert.match(ours.stdout, /processed 1\n/);
    assert.strictEqual(ours.stderr, 'Event error: cannot process 2\n');
    assert.strictEqual(ours.stdout, theirs.stdout);
    assert.strictEqual(ours.stderr, theirs.stderr);
  });
});
