'use strict';

/**
 * Shared validators for option objects. Each throws the error Node itself would throw for the
 * same mistake: a TypeError with code ERR_INVALID_ARG_TYPE for a wrong type, a RangeError with
 * code ERR_OUT_OF_RANGE for a value outside its range, and ERR_INVALID_ARG_VALUE for a value
 * that is not one of the allowed ones.
 */

function describe(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    return value.constructor && value.constructor.name
      ? `an instance of ${value.constructor.name}`
      : 'an object';
  }
  let shown = String(value);
  if (typeof value === 'string') shown = `'${shown.length > 28 ? shown.slice(0, 25) + '...' : shown}'`;
  return `type ${typeof value} (${shown})`;
}

function codedError(Ctor, code, message) {
  const err = new Ctor(message);
  err.code = code;
  return err;
}

function invalidType(name, expected, value) {
  return codedError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(value)}`,
  );
}

function outOfRange(name, range, value) {
  return codedError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`,
  );
}

/** A finite number in [min, max]; integers only when `integer`. */
function validateNumber(value, name, { min = -Infinity, max = Infinity, integer = false } = {}) {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (Number.isNaN(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    let range = integer ? 'an integer' : 'a number';
    if (min !== -Infinity && max !== Infinity) range += ` >= ${min} and <= ${max}`;
    else if (min !== -Infinity) range += ` >= ${min}`;
    else if (max !== Infinity) range += ` <= ${max}`;
    throw outOfRange(name, range, value);
  }
  return value;
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw invalidType(name, 'of type boolean', value);
  return value;
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidType(name, 'of type function', value);
  return value;
}

function validateString(value, name) {
  if (typeof value !== 'string') throw invalidType(name, 'of type string', value);
  return value;
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidType(name, 'of type object', value);
  }
  return value;
}

function validateOneOf(value, name, allowed) {
  if (!allowed.includes(value)) {
    throw codedError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `The argument '${name}' must be one of: ${allowed.map((a) => `'${a}'`).join(', ')}. Received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Validates the bridge options a native source accepts and returns them with defaults filled:
 * maxBatch 4096 records, maxDelay 1 ms, highWaterMark 1,048,576 records, overflow 'drop'.
 */
function validateBridgeOptions(options = {}, prefix = 'options') {
  validateObject(options, prefix);
  const out = {
    maxBatch: 4096,
    maxDelay: 1,
    highWaterMark: 1 << 20,
    overflow: 'drop',
  };
  if (options.maxBatch !== undefined) {
    out.maxBatch = validateNumber(options.maxBatch, `${prefix}.maxBatch`, {
      min: 1,
      max: 2 ** 31 - 1,
      integer: true,
    });
  }
  if (options.maxDelay !== undefined) {
    out.maxDelay = validateNumber(options.maxDelay, `${prefix}.maxDelay`, { min: 0, max: 2 ** 31 - 1 });
  }
  if (options.highWaterMark !== undefined) {
    out.highWaterMark = validateNumber(options.highWaterMark, `${prefix}.highWaterMark`, {
      min: 1,
      max: 2 ** 32 - 1,
      integer: true,
    });
  }
  if (options.overflow !== undefined) {
    out.overflow = validateOneOf(options.overflow, `${prefix}.overflow`, ['drop', 'wait']);
  }
  return out;
}

module.exports = {
  codedError,
  describe,
  invalidType,
  outOfRange,
  validateBoolean,
  validateBridgeOptions,
  validateFunction,
  validateNumber,
  validateObject,
  validateOneOf,
  validateString,
};
