'use strict';

const assert = require('node:assert');
const path = require('node:path');
const { once } = require('node:events');
const { Worker } = require('node:worker_threads');
const { runtimeInfo } = require('..');
const { BenchSource } = require('../lib/bench-source');

async function drain(source, total) {
  let n = 0;
  source.on('data', () => n++);
  source.start(0, total);
  while (source.produced < total) await new Promise((r) => setTimeout(r, 5));
  const closed = once(source, 'close');
  source.close();
  await closed;
  return n;
}

describe('runtime', function () {
  it('runs one worker thread per available core', function () {
    const info = runtimeInfo();
    assert.strictEqual(info.workers, require('node:os').availableParallelism());
    assert.ok(info.aliveTasks >= 0);
  });

  it('is shared with worker threads and survives their teardown', async function () {
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      const { BenchSource } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'bench-source'))});
      const s = new BenchSource({ overflow: 'wait' });
      let n = 0;
      s.on('data', () => n++);
      s.on('close', () => parentPort.postMessage(n));
      s.start(0, 10000);
      const t = setInterval(() => { if (s.produced >= 10000) { clearInterval(t); s.close(); } }, 5);
      `,
      { eval: true },
    );
    const [fromWorker] = await once(worker, 'message');
    assert.strictEqual(fromWorker, 10000);
    const [code] = await once(worker, 'exit');
    assert.strictEqual(code, 0);
    // The worker's environment is gone; the main thread's sources still run on the runtime.
    assert.strictEqual(await drain(new BenchSource({ overflow: 'wait' }), 20000), 20000);
  });
});
