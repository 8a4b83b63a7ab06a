'use strict';

const assert = require('node:assert');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { runNode, ROOT } = require('./helpers');

describe('entry points', function () {
  it('CommonJS: require("ferrocast") and require("ferrocast/events")', async function () {
    const r = await runNode(`
      const f = require('ferrocast');
      const E = require('ferrocast/events');
      console.log(JSON.stringify({
        same: f.EventEmitter === E,
        workers: f.runtimeInfo().workers > 0,
        pkg: require('ferrocast/package.json').name,
      }));
    `);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), { same: true, workers: true, pkg: 'ferrocast' });
  });

  it('ESM: import ferrocast and ferrocast/events', async function () {
    const r = await runNode(
      `
      import ferrocast, { EventEmitter, runtimeInfo } from 'ferrocast';
      import Events, { once, EventEmitter as Named } from 'ferrocast/events';
      const e = new EventEmitter();
      setImmediate(() => e.emit('ready', 42));
      const [v] = await once(e, 'ready');
      console.log(JSON.stringify({
        v,
        same: ferrocast.EventEmitter === EventEmitter && Events === EventEmitter && Named === Events,
        workers: runtimeInfo().workers > 0,
      }));
    `,
      { args: ['--input-type=module'] },
    );
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), { v: 42, same: true, workers: true });
  });

  it('TypeScript: a consumer compiles with tsc --noEmit against index.d.ts', function (done) {
    this.timeout(60000);
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFile(
      process.execPath,
      [tsc, '-p', path.join(__dirname, 'fixtures', 'tsconfig.json')],
      { cwd: ROOT },
      (err, stdout, stderr) => {
        assert.ifError(err && new Error(`tsc failed:\n${stdout}${stderr}`));
        done();
      },
    );
  });
});
