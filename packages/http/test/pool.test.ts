import { AbortedError, appendSignal, Extensions } from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  Body,
  type BodyChannel,
  type ClientConnection,
  type ClientConnectionListener,
  type ConnectionPool,
  connectionPool,
  PoolClosedError,
  type PoolOptions,
  PoolQueueFullError,
  Request,
  Response,
} from "../src/index.js";

// A scripted protocol connection: it answers every request with a streaming body that the test ends (or at
// once, with `auto`), so the pool's view (capacity, availability, close) is all that is exercised.
class FakeConnection implements ClientConnection {
  readonly extensions = new Extensions();
  readonly id: number;
  readonly max: number;
  readonly listener: ClientConnectionListener;
  readonly served: Request[] = [];
  readonly open: BodyChannel[] = [];
  inFlight = 0;
  closed = false;
  closing = false;
  auto: boolean;
  /** The next serve() fails with this. */
  failWith: unknown = undefined;

  constructor(id: number, max: number, listener: ClientConnectionListener, auto: boolean) {
    this.id = id;
    this.max = max;
    this.listener = listener;
    this.auto = auto;
  }

  get capacity(): number {
    return this.closed || this.closing ? 0 : this.max - this.inFlight;
  }

  serve(request: Request): Promise<Response> {
    if (this.closed) return Promise.reject(Object.assign(new Error("closed"), { requestSent: false }));
    if (this.capacity === 0) return Promise.reject(new Error("over capacity"));
    this.served.push(request);
    const failure = this.failWith;
    if (failure !== undefined) {
      this.failWith = undefined;
      this.peerClose();
      return Promise.reject(failure);
    }
    this.inFlight++;
    if (this.auto) {
      queueMicrotask(() => this.finish());
      return Promise.resolve(new Response(200, undefined, Body.fromText(`conn ${this.id}`)));
    }
    const channel = Body.channel();
    this.open.push(channel);
    return Promise.resolve(new Response(200, undefined, channel.body));
  }

  /** End the oldest open response body: the exchange is over. */
  endBody(): void {
    this.open.shift()!.end();
    this.finish();
  }

  finish(): void {
    this.inFlight--;
    if (this.closing && this.inFlight === 0) this.destroy();
    else if (!this.closed) this.listener.onAvailable(this);
  }

  peerClose(): void {
    this.destroy();
  }

  close(): void {
    this.closing = true;
    if (this.inFlight === 0) this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.onClose(this);
  }
}

interface Harness {
  pool: ConnectionPool;
  connections: FakeConnection[];
  connects: string[];
  /** Make the next connects fail with these errors. */
  failures: unknown[];
}

const pools: ConnectionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

interface HarnessOptions {
  max?: number;
  auto?: boolean;
  prepare?: (connection: FakeConnection) => unknown;
}

function harness(options: PoolOptions = {}, { max = 1, auto = true, prepare }: HarnessOptions = {}): Harness {
  const connections: FakeConnection[] = [];
  const connects: string[] = [];
  const failures: unknown[] = [];
  const pool = connectionPool(
    {
      route: (request) => {
        const key = request.uri.authority;
        if (key === undefined) throw new Error("no authority");
        return { key };
      },
      connect: async (route, listener) => {
        connects.push(route.key);
        await Promise.resolve();
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        const c = new FakeConnection(connections.length, max, listener, auto);
        connections.push(c);
        prepare?.(c);
        return c;
      },
    },
    options,
  );
  pools.push(pool);
  return { pool, connections, connects, failures };
}

const get = (path = "/", extensions?: Extensions) => Request.get(`http://a.example${path}`, { extensions });

function abortable() {
  const controller = new AbortController();
  return { controller, extensions: appendSignal(new Extensions(), controller.signal) };
}

describe("connection pool", () => {
  it("reuses one connection for sequential requests, per authority", async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) expect(await (await h.pool.serve(get())).body.text()).toBe("conn 0");
    await h.pool.serve(Request.get("http://b.example/"));
    expect(h.connects).toEqual(["a.example", "b.example"]);
    expect(h.pool.stats()).toMatchObject({ authorities: 2, connections: 2, idle: 2, waiting: 0 });
  });

  it("opens at most maxConnectionsPerAuthority, queues the rest, and serves them in order", async () => {
    const h = harness({ maxConnectionsPerAuthority: 3 }, { auto: false });
    const responses = Array.from({ length: 7 }, (_, i) => h.pool.serve(get(`/${i}`)));
    await new Promise((r) => setTimeout(r, 5));
    expect(h.connections).toHaveLength(3);
    expect(h.pool.stats()).toMatchObject({ connections: 3, waiting: 4 });
    // Ending bodies frees connections; the oldest waiter goes first.
    while (h.connections.some((c) => c.open.length > 0)) {
      for (const c of h.connections) if (c.open.length > 0) c.endBody();
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(responses);
    const order = h.connections.flatMap((c) => c.served.map((r) => r.path));
    expect(order.sort()).toEqual(["/0", "/1", "/2", "/3", "/4", "/5", "/6"]);
    expect(h.connections[0]!.served.map((r) => r.path)).toEqual(["/0", "/3", "/6"]);
  });

  it("a connection comes back when the response body ends, not when the head arrived", async () => {
    const h = harness({ maxConnectionsPerAuthority: 1 }, { auto: false });
    const first = await h.pool.serve(get("/1"));
    const second = h.pool.serve(get("/2"));
    let done = false;
    void second.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    expect(h.pool.stats().waiting).toBe(1);
    const text = first.body.text();
    h.connections[0]!.endBody();
    await text;
    await second;
    expect(done).toBe(true);
    expect(h.connections).toHaveLength(1);
  });

  it("bounds the queue and lets a waiter leave when its signal aborts", async () => {
    const h = harness({ maxConnectionsPerAuthority: 1, maxWaitersPerAuthority: 2 }, { auto: false });
    await h.pool.serve(get());
    const { controller, extensions } = abortable();
    const leaving = h.pool.serve(get("/leaving", extensions));
    const staying = h.pool.serve(get("/staying"));
    await expect(h.pool.serve(get("/third"))).rejects.toBeInstanceOf(PoolQueueFullError);
    controller.abort(new AbortedError("gave up"));
    await expect(leaving).rejects.toThrow("gave up");
    expect(h.pool.stats().waiting).toBe(1);
    h.connections[0]!.endBody();
    await staying;
    expect(h.connections[0]!.served.map((r) => r.path)).toEqual(["/", "/staying"]);
  });

  it("closes connections idle longer than idleTimeout, and beyond maxIdlePerAuthority", async () => {
    const h = harness({ idleTimeout: 30 });
    await h.pool.serve(get());
    expect(h.pool.stats().idle).toBe(1);
    await new Promise((r) => setTimeout(r, 120));
    expect(h.connections[0]!.closed).toBe(true);
    expect(h.pool.stats()).toMatchObject({ authorities: 0, connections: 0 });

    const k = harness({ maxIdlePerAuthority: 1 }, { auto: false });
    await Promise.all([k.pool.serve(get()), k.pool.serve(get()), k.pool.serve(get())]);
    for (const c of k.connections) c.endBody();
    expect(k.connections.filter((c) => c.closed)).toHaveLength(2);
    expect(k.pool.stats().idle).toBe(1);
  });

  it("drops a connection the peer closed while idle and opens a new one", async () => {
    const h = harness();
    await h.pool.serve(get());
    h.connections[0]!.peerClose();
    expect(h.pool.stats().connections).toBe(0);
    expect(await (await h.pool.serve(get())).body.text()).toBe("conn 1");
  });

  it("retries once on a stale connection when safe: idempotent and replayable", async () => {
    const stale = () => Object.assign(new Error("stale"), { staleConnection: true, requestSent: true });
    const h = harness();
    await h.pool.serve(get());

    h.connections[0]!.failWith = stale();
    const retried = await h.pool.serve(get("/again"));
    expect(await retried.body.text()).toBe("conn 1");
    expect(h.connections[1]!.served[0]!.path).toBe("/again");
    // The retry ran on a copy with forked extensions.
    expect(h.connections[1]!.served[0]!.extensions.parent).toBe(h.connections[0]!.served[1]!.extensions);

    h.connections[1]!.failWith = stale();
    await expect(h.pool.serve(Request.post("http://a.example/", "x"))).rejects.toThrow("stale");

    await h.pool.serve(get());
    const last = h.connections[h.connections.length - 1]!;
    last.failWith = stale();
    async function* stream() {
      yield "x";
    }
    await expect(h.pool.serve(Request.put("http://a.example/", Body.fromIterable(stream())))).rejects.toThrow(
      "stale",
    );

    // Stale again on the retry: there is only one.
    const twice = harness(
      {},
      {
        prepare: (c) => {
          if (c.id > 0) c.failWith = stale();
        },
      },
    );
    await twice.pool.serve(get());
    twice.connections[0]!.failWith = stale();
    await expect(twice.pool.serve(get("/x"))).rejects.toThrow("stale");
    expect(twice.connects).toHaveLength(2);
  });

  it("retries a request that was never sent whatever its method", async () => {
    const h = harness();
    await h.pool.serve(get());
    h.connections[0]!.failWith = Object.assign(new Error("not sent"), { requestSent: false });
    const res = await h.pool.serve(Request.post("http://a.example/", "body"));
    expect(await res.body.text()).toBe("conn 1");
  });

  it("gives a connect failure to the oldest waiter; the others get connects of their own", async () => {
    const h = harness({ maxConnectionsPerAuthority: 1 });
    h.failures.push(new Error("refused"));
    const a = h.pool.serve(get("/a"));
    const b = h.pool.serve(get("/b"));
    await expect(a).rejects.toThrow("refused");
    expect(await (await b).body.text()).toBe("conn 0");
    expect(h.connects).toHaveLength(2);
  });

  it("puts several requests on a connection that takes several (HTTP/2-like capacity)", async () => {
    const h = harness({ maxConnectionsPerAuthority: 4 }, { max: 5, auto: false });
    const first = await h.pool.serve(get());
    const more = await Promise.all([1, 2, 3, 4].map(() => h.pool.serve(get())));
    expect(h.connections).toHaveLength(1);
    expect(h.connections[0]!.inFlight).toBe(5);
    const sixth = h.pool.serve(get());
    await new Promise((r) => setTimeout(r, 5));
    expect(h.connections).toHaveLength(2);
    await sixth;
    for (const c of h.connections) while (c.open.length > 0) c.endBody();
    expect(first.status + more.length).toBe(204);
  });

  it("close() fails waiters, closes idle connections now and busy ones when their exchange ends", async () => {
    const h = harness({ maxConnectionsPerAuthority: 1 }, { auto: false });
    const busy = await h.pool.serve(get());
    await h.pool.serve(Request.get("http://b.example/"));
    h.connections[1]!.endBody(); // idle
    const waiting = [h.pool.serve(get()), h.pool.serve(get())];
    await new Promise((r) => setTimeout(r, 1));
    expect(h.pool.stats()).toMatchObject({ connections: 2, idle: 1, waiting: 2 });
    let closed = false;
    const closing = h.pool.close().then(() => (closed = true));
    for (const w of waiting) await expect(w).rejects.toBeInstanceOf(PoolClosedError);
    expect(h.connections[1]!.closed).toBe(true);
    expect(h.connections[0]!.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(false);
    void busy.body.text();
    h.connections[0]!.endBody();
    await closing;
    expect(h.connections[0]!.closed).toBe(true);
    await expect(h.pool.serve(get())).rejects.toBeInstanceOf(PoolClosedError);
  });

  it("destroy() closes busy connections at once", async () => {
    const h = harness({}, { auto: false });
    await h.pool.serve(get());
    await h.pool.destroy();
    expect(h.connections[0]!.closed).toBe(true);
    expect(h.pool.stats().connections).toBe(0);
  });

  it("a request whose route cannot be made fails with that error", async () => {
    const h = harness();
    await expect(h.pool.serve(Request.get("/relative"))).rejects.toThrow("no authority");
  });
});
