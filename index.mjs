// ESM entry: the same objects as the CommonJS entry, as named exports and a default.
import ferrocast from './index.js';

export default ferrocast;
export const { EventEmitter, runtimeInfo } = ferrocast;
export const { WebSocket, WebSocketServer, createWebSocketStream } = ferrocast;
