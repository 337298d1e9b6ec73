// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ApiEvent } from "@/api/types";
import {
  backoffDelay,
  decodeEnvelope,
  eventsEndpoint,
  EventStream,
  type EventSocket,
  type StreamState,
  type Timers,
} from "./events";

/** A WebSocket the test plays the server of. */
class FakeSocket implements EventSocket {
  static all: FakeSocket[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closedByClient = false;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  close(): void {
    this.closedByClient = true;
  }

  open(): void {
    this.onopen?.(new Event("open"));
  }

  send(envelope: object | string): void {
    const data = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
    this.onmessage?.(new MessageEvent("message", { data }));
  }

  drop(code = 1006): void {
    this.onerror?.(new Event("error"));
    this.onclose?.(new CloseEvent("close", { code }));
  }
}

/** Timers the test advances by hand. */
class FakeTimers implements Timers {
  private next = 1;
  pending = new Map<number, { fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** The delays waiting, and runs them. */
  fire(): number[] {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
    return due.map((t) => t.ms);
  }
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1] as FakeSocket;

function setup(options: { since?: number; random?: number } = {}) {
  const timers = new FakeTimers();
  const stream = new EventStream({
    url: "ws://127.0.0.1:7878/api/v1/events",
    token: "tok",
    ...(options.since !== undefined ? { since: options.since } : {}),
    WebSocket: FakeSocket,
    timers,
    random: () => options.random ?? 0,
  });
  const events: ApiEvent[] = [];
  const states: StreamState[] = [];
  stream.subscribe((e) => events.push(e));
  stream.onState((s) => states.push(s));
  stream.start();
  return { stream, timers, events, states };
}

const message = (seq: number, id = `m${seq}`) => ({
  type: "message:new",
  seq,
  data: {
    id,
    channel: "c",
    author: "a",
    text: "x",
    mentions: [],
    everyone: false,
    created_at: "2024-01-01T00:00:00Z",
    edited_at: null,
    reactions: [],
    state: "sent",
  },
});

beforeEach(() => {
  FakeSocket.all = [];
});

describe("EventStream", () => {
  it("connects with the token and no since at first", () => {
    const { states } = setup();
    expect(FakeSocket.all).toHaveLength(1);
    expect(last().url.startsWith("ws://127.0.0.1:7878/api/v1/events?")).toBe(true);
    expect(last().query.get("token")).toBe("tok");
    expect(last().query.has("since")).toBe(false);
    last().open();
    expect(states).toEqual(["connecting", "open"]);
  });

  it("resumes from the given since", () => {
    setup({ since: 41 });
    expect(last().query.get("since")).toBe("41");
  });

  it("delivers events and passes the last seq on reconnect", () => {
    const { stream, timers, events } = setup();
    last().open();
    last().send({ type: "hello", seq: 7 });
    expect(stream.seq).toBe(7);
    last().send(message(8));
    last().send(message(9));
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["hello", 7],
      ["message:new", 8],
      ["message:new", 9],
    ]);
    last().drop();
    expect(FakeSocket.all).toHaveLength(1);
    timers.fire();
    expect(FakeSocket.all).toHaveLength(2);
    expect(last().query.get("since")).toBe("9");
    // The node replays what was missed after its hello: the hello's seq (the latest) must not skip them.
    last().open();
    last().send({ type: "hello", seq: 12 });
    last().send(message(10));
    expect(stream.seq).toBe(10);
    expect(events.map((e) => e.seq)).toEqual([7, 8, 9, 12, 10]);
  });

  it("drops events it has seen already", () => {
    const { events } = setup({ since: 5 });
    last().send({ type: "hello", seq: 6 });
    last().send(message(5));
    last().send(message(6));
    last().send(message(6));
    expect(events.map((e) => `${e.type}:${e.seq}`)).toEqual(["hello:6", "message:new:6"]);
  });

  it("surfaces resync and goes on from its seq", () => {
    const { stream, timers, events } = setup({ since: 900 });
    last().send({ type: "hello", seq: 3 });
    last().send({ type: "resync", seq: 3 });
    expect(events.map((e) => e.type)).toEqual(["hello", "resync"]);
    expect(stream.seq).toBe(3);
    last().send(message(4));
    expect(stream.seq).toBe(4);
    last().drop();
    timers.fire();
    expect(last().query.get("since")).toBe("4");
  });

  it("backs off exponentially up to 10 s and starts over after a hello", () => {
    const { timers, states } = setup({ random: 0 });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      last().drop();
      delays.push(...timers.fire());
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
    expect(states.slice(0, 3)).toEqual(["connecting", "waiting", "connecting"]);
    last().open();
    last().send({ type: "hello", seq: 0 });
    last().drop();
    expect(timers.fire()).toEqual([500]);
  });

  it("jitters the delay by up to half", () => {
    expect(backoffDelay(0, 500, 10000, 0)).toBe(500);
    expect(backoffDelay(0, 500, 10000, 0.999)).toBeCloseTo(250.25);
    expect(backoffDelay(3, 500, 10000, 0.5)).toBe(3000);
    expect(backoffDelay(40, 500, 10000, 0)).toBe(10000);
    const { timers } = setup({ random: 0.5 });
    last().drop();
    expect(timers.fire()).toEqual([375]);
  });

  it("ignores what is not an envelope and types it does not know, but counts their seq", () => {
    const { stream, events } = setup();
    last().send({ type: "hello", seq: 1 });
    last().send("not json");
    last().send({ type: "message:new" });
    last().send({ type: "call:initiate", seq: 2, data: {} });
    expect(events.map((e) => e.type)).toEqual(["hello"]);
    expect(stream.seq).toBe(2);
  });

  it("keeps delivering when a listener throws", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const { stream } = setup();
    const unsubscribe = stream.subscribe(() => {
      throw new Error("listener bug");
    });
    const after: number[] = [];
    stream.subscribe((e) => after.push(e.seq));
    last().send({ type: "hello", seq: 1 });
    last().send(message(2));
    unsubscribe();
    expect(after).toEqual([1, 2]);
    expect(logged).toHaveBeenCalledTimes(2);
    logged.mockRestore();
  });

  it("stops for good on close", () => {
    const { stream, timers, states } = setup();
    const first = last();
    first.open();
    stream.close();
    expect(first.closedByClient).toBe(true);
    expect(states[states.length - 1]).toBe("closed");
    first.drop();
    expect(timers.pending.size).toBe(0);
    stream.start();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("cancels a scheduled reconnect on close", () => {
    const { stream, timers } = setup();
    last().drop();
    expect(timers.pending.size).toBe(1);
    stream.close();
    expect(timers.pending.size).toBe(0);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("ignores a replaced socket", () => {
    const { events, timers } = setup();
    const old = last();
    old.drop();
    timers.fire();
    old.send({ type: "hello", seq: 99 });
    old.drop();
    expect(events).toEqual([]);
    expect(timers.pending.size).toBe(0);
  });
});

describe("decodeEnvelope", () => {
  it("accepts envelopes only", () => {
    expect(decodeEnvelope('{"type":"hello","seq":0}')).toEqual({ type: "hello", seq: 0, data: undefined });
    expect(decodeEnvelope('{"type":"hello","seq":-1}')).toBeNull();
    expect(decodeEnvelope('{"type":"hello","seq":"1"}')).toBeNull();
    expect(decodeEnvelope("[]")).toBeNull();
    expect(decodeEnvelope("null")).toBeNull();
  });
});

describe("eventsEndpoint", () => {
  it("turns the API origin into the stream's URL", () => {
    const page = { href: "http://127.0.0.1:7878/channels/x#y" };
    expect(eventsEndpoint("", page)).toBe("ws://127.0.0.1:7878/api/v1/events");
    expect(eventsEndpoint("http://127.0.0.1:9000", { href: "wails://wails/" })).toBe(
      "ws://127.0.0.1:9000/api/v1/events",
    );
    expect(eventsEndpoint("", { href: "https://localhost:8443/" })).toBe("wss://localhost:8443/api/v1/events");
  });
});
