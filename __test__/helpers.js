'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/**
 * Spawns node with `argv` (cwd = the package root, stdio piped), hands the child to `started`
 * and resolves with { code, signal, stdout, stderr, ms }. The child is killed after `limit` ms.
 */
function spawnNode(argv, limit, started = () => {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    started(child);
  });
}

/**
 * Runs `code` in a fresh node process (cwd = the package root) and resolves with
 * { code, signal, stdout, stderr, ms }. The child is killed after `limit` ms.
 */
function runNode(code, { limit = 10000, args = [], input } = {}) {
  return spawnNode([...args, '-e', code], limit, (child) => {
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Runs a file with node and resolves like runNode, without `ms` (its stdin stays open). */
async function runFile(file, { limit = 10000, args = [] } = {}) {
  const result = await spawnNode([...args, file], limit);
  delete result.ms;
  return result;
}

module.exports = { ROOT, runNode, runFile };
