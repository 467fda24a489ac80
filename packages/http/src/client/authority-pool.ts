import { abortReason, neverAborts, signalOf } from "@tessera/core";
import type { Request } from "../request.js";
import type { Response } from "../response.js";
import type { ClientConnection, ClientConnectionListener } from "./client-connection.js";
import { PoolClosedError, PoolQueueFullError } from "./errors.js";
import type { PoolRoute } from "./pool.js";

/** What an {@link AuthorityPool} needs from the pool that owns it. */
export interface PoolOwner<R extends PoolRoute> {
  readonly maxConnections: number;
  readonly maxIdle: number;
  readonly maxWaiters: number;
  /** Aborts when the pool closes: connects in progress stop. */
  readonly signal: AbortSignal;
  open(route: R, listener: ClientConnectionListener, signal: AbortSignal): Promise<ClientConnection>;
  /** A connection went idle: make sure the idle sweep runs. */
  idle(): void;
  /** This authority has nothing left (no connection, connect or waiter). */
  empty(pool: AuthorityPool<R>): void;
}

/** A connection the pool owns. One object per connection, so availability costs no allocation. */
class Entry {
  readonly connection: ClientConnection;
  /** On the available stack. */
  stacked = false;
  /** When it was last put on the stack (ms). */
  since = 0;
  constructor(connection: ClientConnection) {
    this.connection = connection;
  }
}

/** A request waiting for a connection. */
class Waiter {
  readonly request: Request;
  readonly resolve: (response: Response | Promise<Response>) => void;
  readonly reject: (error: unknown) => void;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    request: Request,
    resolve: (response: Response | Promise<Response>) => void,
    reject: (error: unknown) => void,
  ) {
    this.request = request;
    this.resolve = resolve;
    this.reject = reject;
  }
  unlisten(): void {
    if (this.onAbort !== undefined) this.signal!.removeEventListener("abort", this.onAbort);
    this.onAbort = undefined;
  }
}

/**
 * The connections to one authority (one pool key): the ones open, an available stack (most recently used on top,
 * so a busy client keeps few connections warm and the idle ones age out), the connects in progress, and a
 * bounded FIFO queue of requests waiting for a connection. It listens to its connections' availability.
 */
export class AuthorityPool<R extends PoolRoute> implements ClientConnectionListener {
  readonly key: string;
  readonly route: R;
  readonly #owner: PoolOwner<R>;
  readonly #entries = new Map<ClientConnection, Entry>();
  readonly #available: Entry[] = [];
  readonly #waiters: Waiter[] = [];
  #connecting = 0;
  /** A connection of this authority turned out to take one request at a time (HTTP/1): grow freely. */
  #single = false;

  constructor(key: string, route: R, owner: PoolOwner<R>) {
    this.key = key;
    this.route = route;
    this.#owner = owner;
  }

  /** Open connections. */
  get connections(): number {
    return this.#entries.size;
  }

  /** Connections with nothing in flight. */
  get idle(): number {
    let n = 0;
    for (const entry of this.#available) if (entry.connection.inFlight === 0) n++;
    return n;
  }

  get connecting(): number {
    return this.#connecting;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Send `request` on an available connection now, or queue it (opening a connection if the limit allows).
   * Resolves with the response head, as the connection does.
   */
  serve(request: Request): Promise<Response> {
    const connection = this.#take();
    if (connection !== undefined) return connection.serve(request);
    return this.#wait(request);
  }

  /** An available connection (most recently used first), or undefined. */
  #take(): ClientConnection | undefined {
    const stack = this.#available;
    while (stack.length > 0) {
      const entry = stack[stack.length - 1]!;
      const capacity = entry.connection.capacity;
      // A connection that can take more than this one request (HTTP/2) stays on the stack.
      if (capacity <= 1) {
        stack.pop();
        entry.stacked = false;
      }
      if (capacity > 0) return entry.connection;
    }
    return undefined;
  }

  #wait(request: Request): Promise<Response> {
    const owner = this.#owner;
    if (this.#waiters.length >= owner.maxWaiters) {
      return Promise.reject(new PoolQueueFullError(this.key, owner.maxWaiters));
    }
    const signal = signalOf(request);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Response>((resolve, reject) => {
      const waiter = new Waiter(request, resolve, reject);
      if (signal !== neverAborts()) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          waiter.onAbort = undefined;
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortReason(signal));
          this.#checkEmpty();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#grow();
    });
  }

  /** Open connections while waiters outnumber the connects in progress and the limit allows. */
  #grow(): void {
    const owner = this.#owner;
    // A multiplexed route opens one connection at a time; it opens another only when the open ones are full.
    const oneAtATime = this.route.multiplexed === true && !this.#single;
    while (
      this.#waiters.length > this.#connecting &&
      this.#entries.size + this.#connecting < owner.maxConnections &&
      !owner.signal.aborted
    ) {
      if (oneAtATime && this.#connecting > 0) break;
      this.#connecting++;
      owner.open(this.route, this, owner.signal).then(this.#onOpen, this.#onOpenFailed);
    }
  }

  readonly #onOpen = (connection: ClientConnection): void => {
    this.#connecting--;
    if (this.#owner.signal.aborted) {
      connection.destroy(new PoolClosedError());
      this.#checkEmpty();
      return;
    }
    if (connection.closed) {
      // Closed before it could be used: try again for the waiters.
      this.#grow();
      this.#checkEmpty();
      return;
    }
    this.#entries.set(connection, new Entry(connection));
    if (connection.capacity <= 1) this.#single = true;
    this.onAvailable(connection);
    // Waiters the new connection could not take (a full HTTP/2 connection) need another one.
    if (this.#waiters.length > 0) this.#grow();
  };

  readonly #onOpenFailed = (error: unknown): void => {
    this.#connecting--;
    // The oldest waiter gets the failure (each request fails with the error of a connect made for it); the others
    // get connects of their own, so a server that came back is found without failing everyone.
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.unlisten();
      waiter.reject(error);
    }
    this.#grow();
    this.#checkEmpty();
  };

  /** {@link ClientConnectionListener}: hand the connection to waiters, or put it on the available stack. */
  onAvailable(connection: ClientConnection): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined || connection.closed) return;
    const waiters = this.#waiters;
    while (waiters.length > 0 && connection.capacity > 0) {
      const waiter = waiters.shift()!;
      waiter.unlisten();
      // Started synchronously, so nobody else can take the capacity in between.
      waiter.resolve(connection.serve(waiter.request));
    }
    if (connection.capacity === 0 || entry.stacked) return;
    const owner = this.#owner;
    // The exact idle count walks the stack: only when the stack alone could be over the limit.
    if (connection.inFlight === 0 && this.#available.length >= owner.maxIdle && this.idle >= owner.maxIdle) {
      connection.close();
      return;
    }
    entry.stacked = true;
    entry.since = Date.now();
    this.#available.push(entry);
    owner.idle();
  }

  /** {@link ClientConnectionListener}: forget the connection; waiters may need a new one. */
  onClose(connection: ClientConnection): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined) return;
    this.#entries.delete(connection);
    if (entry.stacked) {
      entry.stacked = false;
      const i = this.#available.indexOf(entry);
      if (i >= 0) this.#available.splice(i, 1);
    }
    this.#grow();
    this.#checkEmpty();
  }

  /** Close connections idle since before `deadline` (the oldest are at the bottom of the stack). True if any stay idle. */
  sweep(deadline: number): boolean {
    const stack = this.#available;
    let i = 0;
    while (i < stack.length) {
      const entry = stack[i]!;
      if (entry.since > deadline) break;
      if (entry.connection.inFlight === 0) {
        stack.splice(i, 1);
        entry.stacked = false;
        entry.connection.close();
      } else i++;
    }
    return stack.length > 0;
  }

  /** Fail the waiters and close every connection (idle ones now, busy ones when their exchange is over). */
  close(reason: Error): void {
    for (const waiter of this.#waiters.splice(0)) {
      waiter.unlisten();
      waiter.reject(reason);
    }
    for (const entry of [...this.#entries.values()]) entry.connection.close();
    this.#checkEmpty();
  }

  /** Destroy every connection now: exchanges in flight fail with `reason`. */
  destroy(reason: Error): void {
    for (const entry of [...this.#entries.values()]) entry.connection.destroy(reason);
  }

  #checkEmpty(): void {
    if (this.#entries.size === 0 && this.#connecting === 0 && this.#waiters.length === 0)
      this.#owner.empty(this);
  }
}
