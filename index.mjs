// ESM entry: the same objects as the CommonJS entry, as named exports and a default.
import ferrocast from './index.js';

export default ferrocast;
export const { EventEmitter, runtimeInfo } = ferrocast;
export const { EventBuffer, EventAggregator, MetricWindow } = ferrocast;
export const { CircuitBreaker, debugEvent, monitorListeners, traceEvents, RealTimeDashboard } = ferrocast;
export const { transforms } = ferrocast;
export const { WebSocket, WebSocketServer, createWebSocketStream } = ferrocast;
