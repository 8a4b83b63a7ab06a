// Types of `require('ferrocast/ws')`, shaped like @types/ws for ws 8. Hand-written.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Duplex, DuplexOptions } from 'node:stream';
import { URL } from 'node:url';

declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** How binary messages are delivered. Default 'nodebuffer'. */
  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
  /** Bytes queued and not yet written to the socket. */
  readonly bufferedAmount: number;
  /** Always '' (permessage-deflate is not implemented). */
  readonly extensions: string;
  readonly isPaused: boolean;
  readonly protocol: string;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string;
  /** Messages skipped by the server's 'drop' backpressure policy. */
  readonly dropped: number;
  /** Topics this (server-side) connection is subscribed to. */
  readonly topics: string[];

  onopen: ((event: WebSocket.Event) => void) | null;
  onerror: ((event: WebSocket.ErrorEvent) => void) | null;
  onclose: ((event: WebSocket.CloseEvent) => void) | null;
  onmessage: ((event: WebSocket.MessageEvent) => void) | null;

  constructor(address: null);
  constructor(address: string | URL, options?: WebSocket.ClientOptions | http.ClientRequestArgs);
  constructor(
    address: string | URL,
    protocols?: string | string[],
    options?: WebSocket.ClientOptions | http.ClientRequestArgs,
  );

  close(code?: number, data?: string | Buffer): void;
  ping(data?: any, mask?: boolean, cb?: (err: Error) => void): void;
  pong(data?: any, mask?: boolean, cb?: (err: Error) => void): void;
  send(data: any, cb?: (err?: Error) => void): void;
  send(
    data: any,
    options: { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean },
    cb?: (err?: Error) => void,
  ): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  /** Subscribes this server-side connection to a topic (see WebSocketServer#publish). */
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  isSubscribed(topic: string): boolean;

  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: any) => void,
    options?: { once?: boolean },
  ): void;
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;

  on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
  on(event: 'upgrade', listener: (this: WebSocket, request: http.IncomingMessage) => void): this;
  on(event: 'message', listener: (this: WebSocket, data: WebSocket.RawData, isBinary: boolean) => void): this;
  on(event: 'open', listener: (this: WebSocket) => void): this;
  on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  on(event: 'drain', listener: (this: WebSocket) => void): this;
  on(event: 'dropped', listener: (this: WebSocket, count: number) => void): this;
  on(
    event: 'unexpected-response',
    listener: (this: WebSocket, request: http.ClientRequest, response: http.IncomingMessage) => void,
  ): this;
  on(event: 'redirect', listener: (this: WebSocket, url: string, request: http.ClientRequest) => void): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}

declare namespace WebSocket {
  type RawData = Buffer | ArrayBuffer | Buffer[];

  interface ClientOptions {
    protocol?: string;
    followRedirects?: boolean;
    generateMask?(mask: Buffer): void;
    handshakeTimeout?: number;
    maxRedirects?: number;
    perMessageDeflate?: boolean | object;
    localAddress?: string;
    protocolVersion?: number;
    headers?: { [key: string]: string };
    origin?: string;
    agent?: http.Agent;
    host?: string;
    family?: number;
    checkServerIdentity?(servername: string, cert: any): boolean;
    rejectUnauthorized?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    closeTimeout?: number;
    maxBufferedChunks?: number;
    maxFragments?: number;
    maxPayload?: number;
    /** Automatic pongs not yet written at which the connection is terminated (0: no limit). */
    maxPendingAutoPongs?: number;
    skipUTF8Validation?: boolean;
    createConnection?: (options: any, callback?: () => void) => Duplex;
    finishRequest?: (request: http.ClientRequest, websocket: WebSocket) => void;
    [option: string]: any;
  }

  interface VerifyClientInfo {
    origin: string;
    secure: boolean;
    req: http.IncomingMessage;
  }

  interface ServerOptions {
    host?: string;
    port?: number;
    backlog?: number;
    server?: http.Server | https.Server;
    verifyClient?:
      | ((info: VerifyClientInfo) => boolean)
      | ((
          info: VerifyClientInfo,
          callback: (res: boolean, code?: number, message?: string, headers?: http.OutgoingHttpHeaders) => void,
        ) => void);
    handleProtocols?: (protocols: Set<string>, request: http.IncomingMessage) => string | false;
    path?: string;
    noServer?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    clientTracking?: boolean;
    closeTimeout?: number;
    /** Accepted; negotiated off (not implemented). */
    perMessageDeflate?: boolean | object;
    maxBufferedChunks?: number;
    maxFragments?: number;
    maxPayload?: number;
    /** Automatic pongs not yet written at which a connection is terminated (0: no limit). */
    maxPendingAutoPongs?: number;
    skipUTF8Validation?: boolean;
    WebSocket?: typeof WebSocket;
    /** Queued bytes per connection beyond which `backpressure` applies. Default 16 MiB. */
    maxBackpressure?: number;
    /** What to do beyond maxBackpressure. Default 'buffer'. */
    backpressure?: 'buffer' | 'drop' | 'close';
    /** Milliseconds without inbound frames before a ping, then termination. Default 0 (off). */
    idleTimeout?: number;
  }

  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  interface FanOutOptions {
    binary?: boolean;
    except?: WebSocket | WebSocket[];
  }

  interface Stats {
    connections: number;
    opened: number;
    messagesIn: number;
    bytesIn: number;
    messagesOut: number;
    bytesOut: number;
    dropped: number;
    rates?: { messagesIn: number; bytesIn: number; messagesOut: number; bytesOut: number; dropped: number };
  }

  class Server<T extends typeof WebSocket = typeof WebSocket> extends EventEmitter {
    options: ServerOptions;
    path: string;
    clients: Set<InstanceType<T>>;
    constructor(options?: ServerOptions, callback?: () => void);
    address(): AddressInfo | string | null;
    close(cb?: (err?: Error) => void): void;
    handleUpgrade(
      request: http.IncomingMessage,
      socket: Duplex,
      upgradeHead: Buffer,
      callback: (client: InstanceType<T>, request: http.IncomingMessage) => void,
    ): void;
    shouldHandle(request: http.IncomingMessage): boolean | Promise<boolean>;
    /** Sends to every open client; the frame is built once and written by the runtime. */
    broadcast(data: any, options?: FanOutOptions): number;
    /** Sends to the clients subscribed to `topic`. */
    publish(topic: string, data: any, options?: FanOutOptions): number;
    numSubscribers(topic: string): number;
    stats(): Stats;

    on(event: 'connection', cb: (this: Server<T>, socket: InstanceType<T>, request: http.IncomingMessage) => void): this;
    on(event: 'error', cb: (this: Server<T>, error: Error) => void): this;
    on(event: 'headers', cb: (this: Server<T>, headers: string[], request: http.IncomingMessage) => void): this;
    on(event: 'close' | 'listening', cb: (this: Server<T>) => void): this;
    on(
      event: 'wsClientError',
      cb: (this: Server<T>, error: Error, socket: net.Socket, request: http.IncomingMessage) => void,
    ): this;
    on(event: string | symbol, listener: (this: Server<T>, ...args: any[]) => void): this;
  }

  const WebSocketServer: typeof Server;
  interface WebSocketServer extends Server {}
  const WebSocket: typeof WebSocketAlias;
  interface WebSocket extends WebSocketAlias {}

  function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;

  interface Event {
    type: string;
    target: WebSocket;
  }
  interface ErrorEvent extends Event {
    error: any;
    message: string;
  }
  interface CloseEvent extends Event {
    wasClean: boolean;
    code: number;
    reason: string;
  }
  interface MessageEvent extends Event {
    data: any;
  }
}

declare const WebSocketAlias: typeof WebSocket;
interface WebSocketAlias extends WebSocket {}

export = WebSocket;
