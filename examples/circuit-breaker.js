'use strict';

// The seed's circuit breaker, now ferrocast's CircuitBreaker.   Run: node examples/circuit-breaker.js
//
// The seed's EventCircuitBreaker API (new CircuitBreaker(threshold, timeout), processEvent,
// 'circuitOpen' / 'circuitClosed') first, then the opossum-style API (fire, fallback, stats).

const { setTimeout: sleep } = require('node:timers/promises');
const { CircuitBreaker } = require('ferrocast'); // was: class EventCircuitBreaker extends EventEmitter { ... }

async function seedStyle() {
  const breaker = new CircuitBreaker(3, 200); // open after 3 failures, stay OPEN 200 ms
  breaker.on('circuitOpen', () => console.log('  circuit OPEN'));
  breaker.on('halfOpen', () => console.log('  circuit HALF_OPEN: the next call is a trial'));
  breaker.on('circuitClosed', () => console.log('  circuit CLOSED'));

  let healthy = false;
  const processor = async (event) => {
    await sleep(2);
    if (!healthy) throw new Error(`service down (event ${event.id})`);
    return `processed event ${event.id}`;
  };

  console.log('seed API: processEvent(event, processor)');
  for (let id = 1; id <= 5; id++) {
    try {
      console.log('  ' + (await breaker.processEvent({ id }, processor)));
    } catch (err) {
      console.log(`  event ${id} failed: ${err.message}`);
    }
  }
  healthy = true;
  await sleep(250); // the breaker's own timer never keeps the process alive; this one does
  console.log('  ' + (await breaker.processEvent({ id: 6 }, processor)));
}

async function opossumStyle() {
  console.log('opossum-style API: fire(...args) with a timeout and a fallback');
  let slow = true;
  const price = new CircuitBreaker(
    async (sku) => {
      await sleep(slow ? 100 : 1);
      return { sku, price: 42 };
    },
    { timeout: 20, errorThresholdPercentage: 50, resetTimeout: 100, name: 'price' },
  );
  price.fallback((sku, err) => ({ sku, price: null, reason: err.code }));
  price.on('timeout', (err) => console.log(`  timeout: ${err.message}`));
  price.on('open', () => console.log('  price circuit OPEN'));
  price.on('close', () => console.log('  price circuit CLOSED'));

  console.log('  ', await price.fire('A-1')); // times out: fallback answers, the circuit opens
  console.log('  ', await price.fire('A-2')); // rejected while OPEN: fallback answers
  slow = false;
  await sleep(150);
  console.log('  ', await price.fire('A-3')); // the trial succeeds: CLOSED
  const { fires, successes, failures, timeouts, rejects, fallbacks, latency } = price.stats;
  console.log('  stats:', { fires, successes, failures, timeouts, rejects, fallbacks, p99: latency.p99 });
}

seedStyle()
  .then(opossumStyle)
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
