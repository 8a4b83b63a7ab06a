'use strict';

// Figures and Markdown tables shared by every benchmark driver. No side effects on require, so
// drivers that fork measurement children (transform.js, bridge.js) can use it in the child too.

/** The median of the finite numbers in `values` (the mean of the middle two for an even count); NaN when there are none. */
function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** `names` rotated by `round`, so no peer always runs first when rounds interleave them. */
function rotated(names, round) {
  return names.map((_, i) => names[(i + round) % names.length]);
}

/** 3 significant digits with a k / M suffix ('n/a' for null, undefined, NaN). */
function fmt(n, digits = 3) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(digits)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(digits)}k`;
  if (abs >= 100) return n.toFixed(0);
  return n.toPrecision(digits);
}

/** A formatter: `digits` decimals, 'n/a' when not finite. */
function fixed(digits) {
  return (v) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
}

/** "1.23x", the plain quotient a ÷ b; 'n/a' when either is not finite or b is 0. */
function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}x`;
}

/** A share as a whole percentage ('n/a' when not finite). */
function pct(v) {
  return Number.isFinite(v) ? `${Math.round(v * 100)}%` : 'n/a';
}

/**
 * A Markdown table: the first `left` columns aligned left, the others right (numbers). Rows are
 * arrays of already formatted cells.
 */
function table(header, rows, left = 1) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((h, i) => (i < left ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** "node vX, N cpus, load a b c, <ISO time>": the first line of the in-process benchmarks. */
function machineLine() {
  const os = require('node:os');
  return `node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`;
}

module.exports = { fixed, fmt, machineLine, median, pct, ratio, rotated, table };
