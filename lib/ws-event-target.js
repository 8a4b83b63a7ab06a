'use strict';

/**
 * The EventTarget face of a WebSocket (addEventListener, removeEventListener, onopen, …),
 * layered over its EventEmitter events the way `ws` does it: listeners receive Event,
 * MessageEvent, CloseEvent and ErrorEvent objects, and `on<event>` attributes hold one listener.
 */

const kForOnEventAttribute = Symbol('ferrocast.forOnEventAttribute');
const kListener = Symbol('ferrocast.listener');
const kTarget = Symbol('ferrocast.target');
const kType = Symbol('ferrocast.type');

class Event {
  /** @param {string} type */
  constructor(type) {
    this[kTarget] = null;
    this[kType] = type;
  }

  /** The WebSocket the event was dispatched on. */
  get target() {
    return this[kTarget];
  }

  /** The event's name. */
  get type() {
    return this[kType];
  }
}

class CloseEvent extends Event {
  /** @param {string} type @param {{ code?: number, reason?: string, wasClean?: boolean }} [init] */
  constructor(type, init = {}) {
    super(type);
    this._code = init.code === undefined ? 0 : init.code;
    this._reason = init.reason === undefined ? '' : init.reason;
    this._wasClean = init.wasClean === undefined ? false : init.wasClean;
  }

  get code() {
    return this._code;
  }

  get reason() {
    return this._reason;
  }

  get wasClean() {
    return this._wasClean;
  }
}

class ErrorEvent extends Event {
  /** @param {string} type @param {{ error?: *, message?: string }} [init] */
  constructor(type, init = {}) {
    super(type);
    this._error = init.error === undefined ? null : init.error;
    this._message = init.message === undefined ? '' : init.message;
  }

  get error() {
    return this._error;
  }

  get message() {
    return this._message;
  }
}

class MessageEvent extends Event {
  /** @param {string} type @param {{ data?: * }} [init] */
  constructor(type, init = {}) {
    super(type);
    this._data = init.data === undefined ? null : init.data;
  }

  get data() {
    return this._data;
  }
}

for (const [Ctor, props] of [
  [Event, ['target', 'type']],
  [CloseEvent, ['code', 'reason', 'wasClean']],
  [ErrorEvent, ['error', 'message']],
  [MessageEvent, ['data']],
]) {
  for (const p of props) Object.defineProperty(Ctor.prototype, p, { enumerable: true });
}

function invoke(handler, target, event) {
  event[kTarget] = target;
  if (typeof handler === 'object' && handler !== null && typeof handler.handleEvent === 'function') {
    handler.handleEvent(event);
  } else {
    handler.call(target, event);
  }
}

const makers = {
  message: (handler) =>
    function onMessage(data, isBinary) {
      invoke(handler, this, new MessageEvent('message', { data: isBinary ? data : data.toString() }));
    },
  close: (handler) =>
    function onClose(code, reason) {
      const wasClean = this._closeFrameReceived && this._closeFrameSent;
      invoke(handler, this, new CloseEvent('close', { code, reason: reason.toString(), wasClean }));
    },
  error: (handler) =>
    function onError(error) {
      invoke(handler, this, new ErrorEvent('error', { error, message: error.message }));
    },
  open: (handler) =>
    function onOpen() {
      invoke(handler, this, new Event('open'));
    },
};

/**
 * Adds a DOM-style listener for 'open', 'message', 'close' or 'error' (other types are
 * ignored). The same handler is added once; `{ once: true }` removes it after one call.
 */
function addEventListener(type, handler, options = {}) {
  const attribute = !!options[kForOnEventAttribute];
  if (!attribute) {
    for (const l of this.listeners(type)) {
      if (l[kListener] === handler && !l[kForOnEventAttribute]) return;
    }
  }
  const make = makers[type];
  if (!make) return;
  const wrapper = make(handler);
  wrapper[kForOnEventAttribute] = attribute;
  wrapper[kListener] = handler;
  if (options.once) this.once(type, wrapper);
  else this.on(type, wrapper);
}

/** Removes a listener added with addEventListener. */
function removeEventListener(type, handler) {
  for (const l of this.listeners(type)) {
    if (l[kListener] === handler && !l[kForOnEventAttribute]) {
      this.removeListener(type, l);
      return;
    }
  }
}

/** Defines `onopen`, `onmessage`, `onclose` and `onerror` on a prototype. */
function defineEventAttributes(proto) {
  for (const type of ['open', 'error', 'close', 'message']) {
    Object.defineProperty(proto, `on${type}`, {
      configurable: true,
      enumerable: true,
      get() {
        for (const l of this.listeners(type)) {
          if (l[kForOnEventAttribute]) return l[kListener];
        }
        return null;
      },
      set(handler) {
        for (const l of this.listeners(type)) {
          if (l[kForOnEventAttribute]) {
            this.removeListener(type, l);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        this.addEventListener(type, handler, { [kForOnEventAttribute]: true });
      },
    });
  }
  proto.addEventListener = addEventListener;
  proto.removeEventListener = removeEventListener;
}

module.exports = { CloseEvent, ErrorEvent, Event, MessageEvent, defineEventAttributes };
