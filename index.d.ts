// Public types of `require('ferrocast')`. Hand-written over the generated binding.d.ts.
import EventEmitter = require('./events');

declare namespace ferrocast {
  export { EventEmitter };

  /** Facts about the addon's tokio runtime. */
  export interface RuntimeInfo {
    /** Worker threads in the runtime (the machine's available parallelism). */
    workers: number;
    /** Tasks alive on the runtime now. */
    aliveTasks: number;
  }

  /** Describes the addon's tokio runtime. */
  export function runtimeInfo(): RuntimeInfo;

  /** Options of an {@link EventBuffer}. */
  export interface EventBufferOptions {
    /** Milliseconds without an add after which the burst is flushed. Default 100. */
    delay?: number;
    /** Flush as soon as this many events are held. Default Infinity. */
    maxSize?: number;
    /** Flush no later than this many ms after the oldest held event. Default Infinity. */
    maxWait?: number;
    /** Emit the first event of a burst at once, alone. Default false. */
    leading?: boolean;
  }

  /**
   * Collects bursts of events and emits them as one array (`'bufferFlush'`) once the burst has
   * been quiet for `delay` ms; the timing policy runs on ferrocast's Rust runtime.
   */
  export class EventBuffer<T = any> extends EventEmitter {
    constructor(options?: number | EventBufferOptions);
    /** The quiet delay in ms. */
    readonly delay: number;
    /** Events held now. */
    readonly size: number;
    /** Whether close() has run. */
    readonly closed: boolean;
    /** Adds an event. Throws an Error with code `ERR_BUFFER_CLOSED` after close(). */
    add(event: T): void;
    /** Emits every held event now (nothing when empty). */
    flush(): void;
    /** Flushes what remains and releases the timer. Idempotent; `'close'` follows. */
    close(): void;
    /** Same as close(). */
    destroy(): void;
    on(event: 'bufferFlush', listener: (events: T[]) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    once(event: 'bufferFlush', listener: (events: T[]) => void): this;
    once(event: 'close', listener: () => void): this;
    once(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** Options of {@link EventAggregator.waitForEvents}. */
  export interface WaitForEventsOptions {
    /** Reject with code `ERR_AGGREGATE_TIMEOUT` after this many ms. Default: no timeout. */
    timeout?: number;
    /** Reject with an `AbortError` when aborted. */
    signal?: AbortSignal;
  }

  /** Waits until each of several events has fired once, then hands over `{ [name]: data }`. */
  export class EventAggregator extends EventEmitter {
    constructor(options?: ConstructorParameters<typeof EventEmitter>[0]);
    /** The seed's form: `callback(eventData)` once every named event has fired. */
    waitForEvents(
      eventNames: Array<string | symbol>,
      callback: (eventData: Record<string | symbol, any>) => void,
      options?: WaitForEventsOptions,
    ): void;
    waitForEvents(
      eventNames: Array<string | symbol>,
      options?: WaitForEventsOptions,
    ): Promise<Record<string | symbol, any>>;
  }

  /** Options of a {@link MetricWindow}. */
  export interface MetricWindowOptions {
    /** Window length in ms. Default 1000. */
    window?: number;
    /** A window ends every `slide` ms (sliding when < window; must divide it). Default: window. */
    slide?: number;
    /** Percentiles reported (as p50, p90, p99, p999). Default [50, 90, 99, 99.9]. */
    percentiles?: number[];
    /** Significant digits (1-5): relative error of a percentile <= 10^-precision. Default 3. */
    precision?: number;
  }

  /** The statistics of one window of one series. */
  export interface WindowStats {
    /** The series key; null for the default series. */
    key: string | null;
    /** Window start and end, epoch milliseconds. */
    start: number;
    end: number;
    count: number;
    sum: number;
    min: number;
    max: number;
    mean: number;
    /** count per second over the window. */
    rate: number;
    /** One per configured percentile: p50, p90, p99, p999, ... */
    [percentile: `p${string}`]: number;
  }

  /** Windowed aggregation (count, sum, min, max, mean, rate, percentiles) per key, in Rust. */
  export class MetricWindow extends EventEmitter {
    constructor(options?: MetricWindowOptions);
    readonly window: number;
    readonly slide: number;
    readonly percentiles: number[];
    readonly precision: number;
    /** Records into the default series. RangeError for NaN, ±Infinity, negatives, > 2^40. */
    record(value: number): void;
    /** Records into the series of `key`. */
    record(key: string, value: number): void;
    /** Records every value with one crossing, or none if one is invalid. */
    recordMany(values: Float64Array, key?: string): void;
    /** The stats of the window ending now, or null if nothing was recorded under `key`. */
    snapshot(key?: string): WindowStats | null;
    /** Emits the final window and stops. Idempotent; `'close'` follows. */
    close(): void;
    on(event: 'window', listener: (stats: WindowStats) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }
}

export = ferrocast;
