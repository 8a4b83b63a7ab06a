'use strict';

// Command-line plumbing shared by the benchmark drivers. No side effects on require.

/** Parses `--flag`, `--key value` and `--key=value` arguments. */
function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

/** A comma-separated option as a list of strings; `fallback` when absent or given bare. */
function list(value, fallback) {
  if (value === undefined || value === true) return fallback;
  return String(value)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * `quick` and the numeric options named in `defaults` (`name: [full, quick]`): the given value,
 * else the default for a --quick run or a full one.
 */
function numbers(args, defaults) {
  const quick = Boolean(args.quick);
  const out = { quick };
  for (const [name, [full, short]] of Object.entries(defaults)) out[name] = Number(args[name] || (quick ? short : full));
  return out;
}

/** Runs the async `main`, then exits: 0 when it resolves, 1 (stack on stderr) when it throws. */
function runMain(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err.stack || err);
      process.exit(1);
    },
  );
}

module.exports = { list, numbers, parseArgs, runMain };
