// `require('ferrocast/events')` is shaped like `require('events')`: the module is the class.
import NodeEvents = require('node:events');

declare class EventEmitter extends NodeEvents.EventEmitter {}

declare namespace EventEmitter {
  export import once = NodeEvents.once;
  export import on = NodeEvents.on;
  export import getEventListeners = NodeEvents.getEventListeners;
  export import getMaxListeners = NodeEvents.getMaxListeners;
  export import setMaxListeners = NodeEvents.setMaxListeners;
  export import listenerCount = NodeEvents.listenerCount;
  export import addAbortListener = NodeEvents.addAbortListener;
  export import errorMonitor = NodeEvents.errorMonitor;
  export import captureRejectionSymbol = NodeEvents.captureRejectionSymbol;
  export import captureRejections = NodeEvents.captureRejections;
  export import defaultMaxListeners = NodeEvents.defaultMaxListeners;
  export import EventEmitterAsyncResource = NodeEvents.EventEmitterAsyncResource;
  export { EventEmitter };
}

export = EventEmitter;
