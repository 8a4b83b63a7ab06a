// ESM entry of `ferrocast/ws`: the same objects as the CommonJS entry.
import WebSocket from './ws.js';

export default WebSocket;
export const { WebSocketServer, createWebSocketStream } = WebSocket;
export { WebSocket };
