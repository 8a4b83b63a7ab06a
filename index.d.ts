// Public types of `require('ferrocast')`. Hand-written over the generated binding.d.ts.
import EventEmitter = require('./events');
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
}

export = ferrocast;
