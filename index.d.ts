// Public types of `require('ferrocast')`. Hand-written over the generated binding.d.ts.
import EventEmitter = require('./events');
import { Transform, TransformOptions } from 'node:stream';
import WebSocketModule = require('./ws');

declare namespace ferrocast {
  export { EventEmitter };

  /** The WebSocket client/server class of `ferrocast/ws` (shaped like ws 8). */
  export import WebSocket = WebSocketModule;
  /** The WebSocket server of `ferrocast/ws`. */
  export import WebSocketServer = WebSocketModule.WebSocketServer;
  /** A Duplex stream over a WebSocket. */
  export import createWebSocketStream = WebSocketModule.createWebSocketStream;

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
    /** Lets the process exit while events are held (like `timeout.unref()`). */
    unref(): this;
    /** Held events keep the process alive until flushed (the default). */
    ref(): this;
    /** Whether held events keep the process alive (false after unref() or close()). */
    hasRef(): boolean;
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
    /** Lets the process exit while this window is open, like `timeout.unref()`. */
    unref(): this;
    /** Keeps the process alive while this window is open (the default). */
    ref(): this;
    /** Whether this window keeps the process alive (false after unref() or close()). */
    hasRef(): boolean;
    /** Emits the final window and stops. Idempotent; `'close'` follows. */
    close(): void;
    on(event: 'window', listener: (stats: WindowStats) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  // ---- CircuitBreaker (lib/circuit-breaker.js) ------------------------------------------------

  export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

  export interface CircuitBreakerOptions {
    /** ms a call may take before it fails with ERR_CIRCUIT_TIMEOUT; false: no limit. Default 10000. */
    timeout?: number | false;
    /** ms the circuit stays OPEN before a trial call. Default 30000. */
    resetTimeout?: number;
    /** Failure percentage over the rolling window that opens the circuit. Default 50 (off when only failureThreshold is given). */
    errorThresholdPercentage?: number;
    /** Failures in the rolling window that open the circuit. Default: off. */
    failureThreshold?: number;
    /** Calls needed in the window before the circuit may open. Default 0. */
    volumeThreshold?: number;
    /** ms covered by the counts and latencies. Default 10000. */
    rollingCountTimeout?: number;
    /** Buckets in the rolling window. Default 10. */
    rollingCountBuckets?: number;
    /** Calls in flight at once; more are rejected with ERR_CIRCUIT_CAPACITY. Default Infinity. */
    capacity?: number;
    /** true: the error is not a failure (the call still rejects with it). Default: none. */
    errorFilter?: (err: any, ...args: any[]) => boolean;
    /** Aborted when a call times out. Default: none. */
    abortController?: AbortController;
    /** Name for logs and messages. Default: the function's name, or 'circuit'. */
    name?: string;
  }

  export interface CircuitBreakerStats {
    fires: number;
    successes: number;
    /** Failures, timeouts included. */
    failures: number;
    timeouts: number;
    rejects: number;
    fallbacks: number;
    /** failures / (successes + failures) * 100. */
    errorPercentage: number;
    latencyMean: number;
    latency: { count: number; min: number; max: number; mean: number; p50: number; p90: number; p99: number; p999: number };
  }

  /**
   * Stops calling a failing dependency for a while, then lets one trial call through.
   * `new CircuitBreaker(threshold = 5, timeout = 60000)` (the seed's) or `new CircuitBreaker(fn, options)`.
   * While OPEN, calls reject with an Error whose code is ERR_CIRCUIT_OPEN.
   */
  export class CircuitBreaker<A extends any[] = any[], R = any> extends EventEmitter {
    constructor(threshold?: number, timeout?: number);
    constructor(action: (...args: A) => R | Promise<R>, options?: CircuitBreakerOptions);
    constructor(options: CircuitBreakerOptions);
    static readonly CLOSED: 'CLOSED';
    static readonly OPEN: 'OPEN';
    static readonly HALF_OPEN: 'HALF_OPEN';
    readonly options: Readonly<Required<Omit<CircuitBreakerOptions, 'errorFilter' | 'abortController' | 'errorThresholdPercentage' | 'failureThreshold'>>> & {
      errorThresholdPercentage: number | undefined;
      failureThreshold: number | undefined;
      errorFilter: ((err: any, ...args: any[]) => boolean) | null;
      abortController: AbortController | null;
    };
    readonly name: string;
    readonly state: CircuitState;
    readonly opened: boolean;
    readonly closed: boolean;
    readonly halfOpen: boolean;
    readonly isShutdown: boolean;
    /** Failures in the rolling window since the circuit last closed. */
    readonly failures: number;
    /** ms since the epoch of the last failure, or null. */
    readonly lastFailure: number | null;
    /** Rolling-window statistics, O(1) to read. */
    readonly stats: CircuitBreakerStats;
    /** Answers instead when a call is rejected, times out or fails: gets the call's arguments, then the error. */
    fallback(fn: (...args: any[]) => any): this;
    fire(...args: A): Promise<R>;
    call(context: unknown, ...args: A): Promise<R>;
    /** The seed's API: runs processor(event, { signal }) through the breaker. */
    processEvent<E, T>(
      event: E,
      processor: (event: E, context: { signal: AbortSignal }) => T | Promise<T>,
      options?: { signal?: AbortSignal },
    ): Promise<T>;
    open(): void;
    close(): void;
    /** The seed's name for close(). */
    reset(): void;
    /** The seed's API: counts one failure now. */
    recordFailure(): void;
    /** Stops the breaker for good; later calls reject with ERR_CIRCUIT_SHUTDOWN. Idempotent. */
    shutdown(): void;
  }

  // ---- debugging helpers (lib/debug.js) ----------------------------------------------------

  export interface DebugLogger {
    log(...args: any[]): void;
    warn?(...args: any[]): void;
    trace?(...args: any[]): void;
  }

  /** Logs `[DEBUG] Event "name" emitted with args: …` for `eventName` ('*': every event). Returns restore(). */
  export function debugEvent(
    emitter: import('node:events').EventEmitter,
    eventName: string | symbol,
    options?: { logger?: DebugLogger; trace?: boolean },
  ): () => void;

  /** Logs listener counts every interval (default 5000 ms) and warns when one grows `threshold` (default 3) checks in a row. Returns stop(). */
  export function monitorListeners(
    emitter: import('node:events').EventEmitter,
    options?: { interval?: number; threshold?: number; logger?: DebugLogger },
  ): () => void;

  export interface EventTracer {
    /** Per event: emits counted and emits per second since the start (or the last reset). */
    stats(): Record<string | symbol, { count: number; rate: number }>;
    reset(): void;
    stop(): void;
  }

  /** Counts emits per event from now on. */
  export function traceEvents(emitter: import('node:events').EventEmitter): EventTracer;

  // ---- RealTimeDashboard (lib/dashboard.js) ------------------------------------------------

  export interface RealTimeDashboardOptions {
    /** Port to listen on (0: any free port). Default 8080. Ignored with `server`. */
    port?: number;
    /** Address to listen on. Default: every interface. */
    host?: string;
    /** ms between metric broadcasts. Default 1000. */
    interval?: number;
    /** Metric messages kept and sent to a page when it connects. Default 120. */
    history?: number;
    /** An HTTP server of your own: the dashboard attaches its WebSocket server and serves through handleRequest(). */
    server?: import('node:http').Server;
  }

  export interface AppMetric {
    last: number;
    count: number;
    mean: number;
    min: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    rate: number;
  }

  /** The JSON message broadcast every interval. Times in ms, memory in bytes, CPU in % of one core. */
  export interface DashboardMetrics {
    type: 'metrics';
    time: number;
    uptime: number;
    interval: number;
    activeUsers: number;
    totalRequests: number;
    requestsPerSecond: number;
    responseTime: { count: number; mean: number; p50: number; p90: number; p99: number; max: number };
    eventLoopDelay: { mean: number; p50: number; p99: number; max: number };
    cpu: { percent: number; user: number; system: number };
    memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
    messages: { inPerSecond: number; outPerSecond: number; in: number; out: number };
    app: Record<string, AppMetric>;
  }

  /** A web page at `/` and WebSocket metrics on the same port. */
  export class RealTimeDashboard extends EventEmitter {
    constructor(port?: number);
    constructor(options?: RealTimeDashboardOptions);
    readonly interval: number;
    /** The last message broadcast, or null before the first interval. */
    readonly metrics: DashboardMetrics | null;
    readonly server: import('node:http').Server;
    readonly port: number | null;
    readonly activeUsers: number;
    readonly totalRequests: number;
    address(): ReturnType<import('node:http').Server['address']>;
    /** Records an app metric (finite, >= 0); at most 256 names. */
    record(name: string, value: number): void;
    /** Counts one request that took `ms` milliseconds. */
    recordRequest(ms: number): void;
    recordMessage(direction: 'in' | 'out', count?: number): void;
    /** Times every request of `server`; returns untrack(). */
    trackRequests(server: import('node:http').Server): () => void;
    /** Serves the page, its assets and /metrics.json; false when the path is not the dashboard's. */
    handleRequest(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean;
    /** Collects the metrics of the interval that just ended (the broadcast does this itself). */
    collect(): DashboardMetrics;
    close(callback?: () => void): Promise<void>;
    on(event: 'metrics', listener: (metrics: DashboardMetrics) => void): this;
    on(event: 'listening' | 'close', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /**
   * Stream transforms whose work runs in Rust, off the main thread. Each factory returns a real
   * `stream.Transform`; its options also take the stream's `highWaterMark`,
   * `readableHighWaterMark` and `writableHighWaterMark`.
   */
  export namespace transforms {
    /** Options every transform accepts: the stream's buffer limits. */
    type StreamOptions = Pick<
      TransformOptions,
      'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark'
    >;

    interface LineOptions extends StreamOptions {
      /** The longest line, in bytes without its terminator; longer is an `ERR_LINE_TOO_LONG` error. Default 16777216. */
      maxLineLength?: number;
    }

    interface PatternOptions extends LineOptions {
      /** Match case-insensitively. Default false (or the RegExp's `i` flag). */
      ignoreCase?: boolean;
    }

    /** A transform made by these factories (objects out for `lines` and `ndjson`). */
    interface FerroTransform extends Transform {
      /** `ndjson({ onError: 'skip' })`: bad lines skipped so far. */
      readonly skipped: number;
    }

    /** The longest line accepted by default: 16 MiB. */
    const DEFAULT_MAX_LINE_LENGTH: number;

    /** Uppercases like `String#toUpperCase()`; characters split across chunks are handled. */
    function uppercase(options?: StreamOptions): FerroTransform;
    /** Lowercases like `String#toLowerCase()` (Final_Sigma included). */
    function lowercase(options?: StreamOptions): FerroTransform;
    /** Splits into lines (LF or CRLF, terminators removed): strings, or Buffers with `output: 'buffer'`. */
    function lines(options?: LineOptions & { output?: 'string' | 'buffer'; batch?: boolean }): FerroTransform;
    /** Keeps the lines matching `pattern` (Rust `regex` syntax), or with `invert` those that do not. */
    function grep(pattern: string | RegExp, options?: PatternOptions & { invert?: boolean }): FerroTransform;
    /** Replaces every match in each line; `replacement` uses JS syntax (`$&`, `$1`, `$<name>`, `$$`). */
    function replace(pattern: string | RegExp, replacement: string, options?: PatternOptions): FerroTransform;
    /** Parses ndjson into values; a bad line is an `ERR_NDJSON_INVALID_JSON` error (default) or skipped and counted. */
    function ndjson(options?: LineOptions & { onError?: 'error' | 'skip'; batch?: boolean }): FerroTransform;
    /** Serialises values as ndjson (JSON.stringify on the main thread). */
    function stringify(options?: StreamOptions): Transform;
    /** Compresses into gzip. `level` 0-9, default 6. */
    function gzip(options?: StreamOptions & { level?: number }): FerroTransform;
    /** Decompresses gzip (concatenated members too). */
    function gunzip(options?: StreamOptions): FerroTransform;
    /** Fuses transforms from these factories into one Rust pass; `lines`/`ndjson` only last. */
    function chain(...ops: Array<FerroTransform | StreamOptions>): FerroTransform;
  }
}

export = ferrocast;
