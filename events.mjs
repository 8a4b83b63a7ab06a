// ESM entry of ferrocast/events: shaped like `import EventEmitter, { once } from 'node:events'`.
import EventEmitter from './events.js';

export default EventEmitter;
export const {
  once,
  on,
  getEventListeners,
  getMaxListeners,
  setMaxListeners,
  listenerCount,
  addAbortListener,
  errorMonitor,
  captureRejectionSymbol,
  EventEmitterAsyncResource,
  usingDomains,
} = EventEmitter;
export { EventEmitter };
