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
}

export = ferrocast;
