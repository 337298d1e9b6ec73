// The node's event stream (GET /api/v1/events, a WebSocket): envelopes in
// seq order, resumed after a drop by passing the last seq seen as `since`.

import { isEventType, type ApiEvent } from "@/api/types";

/** What the stream needs of a WebSocket; the browser's fits. */
export interface EventSocket {
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export type EventSocketConstructor = new (url: string) => EventSocket;

/** Timers with an opaque handle, so tests can drive time by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const browserTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * idle: not started; connecting: a socket is opening; open: it is up;
 * waiting: it dropped and the next try is scheduled; closed: close() was called.
 */
export type StreamState = "idle" | "connecting" | "open" | "waiting" | "closed";

export interface EventStreamOptions {
  /** The stream's endpoint without a query, as eventsEndpoint makes it. */
  url: string;
  token: string;
  /** The last seq already seen, to resume from; absent for no history. */
  since?: number;
  WebSocket?: EventSocketConstructor;
  timers?: Timers;
  /** In [0, 1); spreads reconnects out. */
  random?: () => number;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** The envelope every message on the stream has; data is the type's payload. */
interface Envelope {
  type: string;
  seq: number;
  data?: unknown;
}

/** Parses one message of the stream; null when it is not an envelope. */
export function decodeEnvelope(text: string): Envelope | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { type, seq, data } = v as Record<string, unknown>;
  if (typeof type !== "string" || typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return null;
  return { type, seq, data };
}

/**
 * The stream's URL for a client's baseUrl ("" for the page's own origin):
 * ws: for http pages, wss: for https.
 */
export function eventsEndpoint(baseUrl: string, loc: Pick<Location, "href"> = window.location): string {
  const u = new URL(baseUrl || "/", loc.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = u.pathname.replace(/\/+$/, "") + "/api/v1/events";
  u.search = "";
  u.hash = "";
  return u.toString();
}

/** The delay before reconnect try `attempt` (0-based): doubling from min to max, less up to half at random. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, minMs * 2 ** attempt);
  return base * (1 - random / 2);
}

/**
 * A self-healing subscription to the node's events. Listeners get every
 * known envelope in seq order, hello and resync included: resync means the
 * events since the last seq are gone (or the node restarted), so the client
 * refetches all its state. A dropped socket is reopened with backoff,
 * passing the last seq as `since` so nothing in between is lost.
 */
export class EventStream {
  private readonly url: string;
  private readonly token: string;
  private readonly Socket: EventSocketConstructor;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly stateListeners = new Set<(state: StreamState) => void>();
  private socket: EventSocket | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private lastSeq: number | null;
  private current: StreamState = "idle";

  constructor(options: EventStreamOptions) {
    this.url = options.url;
    this.token = options.token;
    this.lastSeq = options.since ?? null;
    this.Socket = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? browserTimers;
    this.random = options.random ?? Math.random;
    this.minDelayMs = options.minDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
  }

  /** The last seq seen; null before the first hello. */
  get seq(): number | null {
    return this.lastSeq;
  }

  get state(): StreamState {
    return this.current;
  }

  /** Calls listener with each event; returns the unsubscribe function. */
  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls listener on each change of state; returns the unsubscribe function. */
  onState(listener: (state: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Opens the stream; subscribe first so the hello is not missed. */
  start(): void {
    if (this.current === "idle") this.connect();
  }

  /** Ends the stream for good. */
  close(): void {
    if (this.current === "closed") return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "client closed");
    this.setState("closed");
  }

  private connect(): void {
    const query = new URLSearchParams({ token: this.token });
    if (this.lastSeq !== null) query.set("since", String(this.lastSeq));
    this.setState("connecting");
    let socket: EventSocket;
    try {
      socket = new this.Socket(`${this.url}?${query}`);
    } catch {
      this.reconnectLater();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket) this.setState("open");
    };
    socket.onmessage = (m) => {
      if (this.socket === socket && typeof m.data === "string") this.receive(m.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.reconnectLater();
    };
    // onerror stays unset: an error is always followed by close, which reconnects.
  }

  private reconnectLater(): void {
    const delay = backoffDelay(this.attempt, this.minDelayMs, this.maxDelayMs, this.random());
    this.attempt++;
    this.setState("waiting");
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private receive(text: string): void {
    const env = decodeEnvelope(text);
    if (env === null) return;
    switch (env.type) {
      case "hello":
        // The node took us in: the next drop starts the backoff afresh.
        this.attempt = 0;
        if (this.lastSeq === null) this.lastSeq = env.seq;
        break;
      case "resync":
        // The stream goes on from here, lower than before if the node restarted.
        this.lastSeq = env.seq;
        break;
      default:
        if (this.lastSeq !== null && env.seq <= this.lastSeq) return;
        this.lastSeq = env.seq;
    }
    // Types this client does not know (newer nodes) still count for seq.
    if (!isEventType(env.type)) return;
    const event = env as ApiEvent;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // One failing listener must not starve the others or the stream.
        console.error("event listener failed:", err);
      }
    }
  }

  private setState(state: StreamState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }
}
