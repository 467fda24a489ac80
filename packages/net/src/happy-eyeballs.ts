import type { Socket } from "node:net";
import { abortReason, neverAborts } from "@tessera/core";
import { formatHost } from "./address.js";
import { type Ending, type EndWatcher, endedReason, unwatchEnding, watchEnding } from "./ending.js";
import { type ConnectAttemptFailure, connectTimeout, toConnectError, UnreachableError } from "./errors.js";

/** One resolved address, as `dns.lookup(name, { all: true })` gives them. */
export interface LookupAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Order resolved addresses for connection attempts (RFC 8305 section 4): keep the resolver's order within each
 * family, start with the family of the first address, then alternate families, so one broken family (an IPv6
 * route that black-holes) costs one attempt delay, not one timeout per address. Duplicates are dropped.
 *
 * @example
 * ```ts
 * interleaveAddresses([
 *   { address: "2001:db8::1", family: 6 }, { address: "2001:db8::2", family: 6 }, { address: "192.0.2.1", family: 4 },
 * ]); // 2001:db8::1, 192.0.2.1, 2001:db8::2
 * ```
 */
export function interleaveAddresses(addresses: readonly LookupAddress[]): LookupAddress[] {
  const first = addresses[0];
  if (first === undefined) return [];
  const seen = new Set<string>();
  const preferred: LookupAddress[] = [];
  const other: LookupAddress[] = [];
  for (const entry of addresses) {
    if (seen.has(entry.address)) continue;
    seen.add(entry.address);
    (entry.family === first.family ? preferred : other).push(entry);
  }
  const ordered: LookupAddress[] = [];
  for (let i = 0; i < Math.max(preferred.length, other.length); i++) {
    if (i < preferred.length) ordered.push(preferred[i]!);
    if (i < other.length) ordered.push(other[i]!);
  }
  return ordered;
}

export interface HappyEyeballsOptions {
  /** The port, for error messages. */
  readonly port: number;
  /** The name that was resolved, for error messages (default: the address). */
  readonly host?: string;
  /**
   * How long an attempt runs alone before the next one starts alongside it (RFC 8305 "Connection Attempt
   * Delay"). A failed attempt starts the next at once. `Infinity` tries one address after another. Default 250.
   */
  readonly attemptDelay?: number;
  /** Start one attempt: a socket that will emit `'connect'` or `'error'`. It is also given `port`. */
  readonly connect: (address: LookupAddress, port: number) => Socket;
  /** Aborting destroys every pending attempt, clears the timer and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Give up after this many ms: every pending attempt is destroyed and the race rejects with a
   * {@link ConnectTimeoutError} (its `timeoutMs` is `timeoutMs`, below, when given). Default: no limit.
   */
  readonly timeout?: number;
  /** The limit the caller was given, for the error (when `timeout` is what is left of it). Default `timeout`. */
  readonly timeoutMs?: number;
}

export interface HappyEyeballsWinner {
  readonly socket: Socket;
  readonly address: LookupAddress;
}

// RFC 8305 section 5: the attempt delay must not be below 10 ms.
const MIN_ATTEMPT_DELAY = 10;

/**
 * Connect to the first of `addresses` that answers, racing staggered attempts (RFC 8305 section 5): attempt 1
 * starts at once, attempt n+1 when attempt n failed or `attemptDelay` passed, whichever is first. The first
 * socket to connect wins and every other attempt is destroyed. When all fail, rejects with one typed
 * {@link ConnectError} listing every attempt: the first failure that is not "unreachable" (a refusal says more
 * about the target than an address family this machine cannot use), else the first.
 *
 * @example
 * ```ts
 * const { socket } = await happyEyeballs(interleaveAddresses(await lookup("example.com")), {
 *   port: 443,
 *   connect: ({ address, family }) => net.connect({ host: address, port: 443, family }),
 * });
 * ```
 */
export function happyEyeballs(
  addresses: readonly LookupAddress[],
  options: HappyEyeballsOptions,
): Promise<HappyEyeballsWinner> {
  const signal = options.signal ?? neverAborts();
  if (signal.aborted) return Promise.reject(abortReason(signal));
  if (addresses.length === 0) {
    const error = new Error("no addresses to connect to");
    return Promise.reject(toConnectError(error, { host: options.host, port: options.port }));
  }
  return raceTo(addresses, options, signal, winner, undefined);
}

function winner(socket: Socket, address: LookupAddress): HappyEyeballsWinner {
  return { socket, address };
}

/**
 * The race of {@link happyEyeballs} (non-empty `addresses`, `ending` not ended), resolving with what
 * `finish` makes of the winner (its socket, address and port): the TCP connector builds its connection there,
 * with no winner object and no async step in between. `finish` is a shared function given `arg`, so a caller
 * makes no closure per race. If it throws, the winner is destroyed and the race rejects with that error.
 * `ending` is a signal, or a listener's connection followed without its signal (see {@link Ending}).
 */
export function raceTo<T, A>(
  addresses: readonly LookupAddress[],
  options: HappyEyeballsOptions,
  ending: Ending,
  finish: (socket: Socket, address: LookupAddress, port: number, arg: A) => T,
  arg: A,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new Race<T, A>(addresses, options, ending, resolve, reject, finish, arg).start();
  });
}

// Each attempt's socket carries its race, so the listeners are shared functions (`this` is the socket) and the
// race is its own abort listener: a connector runs one race per connection, and closures made per call each cost
// a property dictionary under tsup's keepNames. The attempt's address is found by its socket (one or two).
const kRace = Symbol("tessera.happyEyeballs.race");
type AttemptSocket = Socket & { [kRace]?: RaceEvents };

/** What the shared listeners and timer callbacks call on a race, whatever it resolves with. */
interface RaceEvents {
  startNext(): void;
  timedOut(): void;
  failed(socket: Socket, error: Error): void;
  connected(socket: Socket): void;
}

// Also left on losers after they are destroyed: a late error of theirs is dropped here (the race ignores
// sockets no longer pending), so it is never an unhandled 'error'.
function onAttemptError(this: AttemptSocket, error: Error): void {
  this[kRace]?.failed(this, error);
}
function onAttemptConnect(this: AttemptSocket): void {
  this[kRace]?.connected(this);
}
function startNextAttempt(race: RaceEvents): void {
  race.startNext();
}
function raceTimedOut(race: RaceEvents): void {
  race.timedOut();
}

// The race stops when its signal aborts or, for the TCP connector on a listener's connection, when that
// connection ends (followed without making its signal: see ConnectionEnd).
class Race<T, A> implements RaceEvents, EndWatcher {
  readonly #addresses: readonly LookupAddress[];
  readonly #options: HappyEyeballsOptions;
  readonly #ending: Ending;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: Error) => void;
  readonly #finish: (socket: Socket, address: LookupAddress, port: number, arg: A) => T;
  readonly #arg: A;
  readonly #delay: number;
  /** Pending attempts' sockets and their addresses, in the order they started. */
  readonly #pending: Socket[] = [];
  readonly #pendingAddresses: LookupAddress[] = [];
  #failures: ConnectAttemptFailure[] | undefined;
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(
    addresses: readonly LookupAddress[],
    options: HappyEyeballsOptions,
    ending: Ending,
    resolve: (value: T) => void,
    reject: (error: Error) => void,
    finish: (socket: Socket, address: LookupAddress, port: number, arg: A) => T,
    arg: A,
  ) {
    this.#addresses = addresses;
    this.#options = options;
    this.#ending = ending;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#finish = finish;
    this.#arg = arg;
    this.#delay = Math.max(options.attemptDelay ?? 250, MIN_ATTEMPT_DELAY);
  }

  start(): void {
    watchEnding(this.#ending, this);
    const timeout = this.#options.timeout;
    if (timeout !== undefined && Number.isFinite(timeout)) {
      this.#deadline = setTimeout(raceTimedOut, Math.max(0, timeout), this);
    }
    this.startNext();
  }

  startNext(): void {
    this.#timer = undefined;
    const address = this.#addresses[this.#next++];
    if (address === undefined) return;
    let socket: AttemptSocket;
    try {
      socket = this.#options.connect(address, this.#options.port);
    } catch (error) {
      this.#failure(address, error);
      return;
    }
    this.#pending.push(socket);
    this.#pendingAddresses.push(address);
    socket[kRace] = this;
    socket.on("error", onAttemptError);
    socket.on("connect", onAttemptConnect);
    if (this.#next < this.#addresses.length && Number.isFinite(this.#delay)) {
      this.#timer = setTimeout(startNextAttempt, this.#delay, this);
    }
  }

  /** Take `socket` out of the pending attempts; its address, or undefined if it was not pending. */
  #take(socket: Socket): LookupAddress | undefined {
    const i = this.#pending.indexOf(socket);
    if (i < 0) return undefined;
    const address = this.#pendingAddresses[i];
    this.#pending.splice(i, 1);
    this.#pendingAddresses.splice(i, 1);
    return address;
  }

  failed(socket: Socket, error: Error): void {
    socket.off("connect", onAttemptConnect);
    const address = this.#take(socket);
    if (address !== undefined) this.#failure(address, error);
  }

  connected(socket: Socket): void {
    socket.off("connect", onAttemptConnect);
    if (this.#done) return;
    const address = this.#take(socket);
    if (address === undefined) return;
    this.#settle();
    // The winner is handed over: from now on its errors are its new owner's business.
    socket.off("error", onAttemptError);
    (socket as AttemptSocket)[kRace] = undefined;
    this.#destroyPending();
    let value: T;
    try {
      value = this.#finish(socket, address, this.#options.port, this.#arg);
    } catch (error) {
      socket.destroy();
      this.#reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#resolve(value);
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.connectionEnded(endedReason(this.#ending)!);
  }

  /** The connection it connects for ended (or the signal aborted, with this reason). */
  connectionEnded(reason: Error): void {
    if (this.#done) return;
    this.#settle();
    this.#destroyPending();
    this.#reject(reason);
  }

  timedOut(): void {
    if (this.#done) return;
    this.#settle();
    this.#destroyPending();
    const { host, port, timeout, timeoutMs = timeout } = this.#options;
    const where = host ?? this.#addresses[0]?.address ?? "";
    this.#reject(connectTimeout(where, port, timeoutMs ?? 0, this.#failures?.[0]?.error));
  }

  #failure(address: LookupAddress, error: unknown): void {
    if (this.#done) return;
    const failure = {
      address: address.address,
      error: error instanceof Error ? error : new Error(String(error)),
    };
    if (this.#failures === undefined) this.#failures = [failure];
    else this.#failures.push(failure);
    if (this.#next < this.#addresses.length) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.startNext();
    } else if (this.#pending.length === 0) {
      this.#settle();
      this.#reject(pickError(this.#failures!, this.#options));
    }
  }

  #settle(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#timer = undefined;
    unwatchEnding(this.#ending, this);
  }

  #destroyPending(): void {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.length = 0;
    this.#pendingAddresses.length = 0;
  }
}

function pickError(failures: readonly ConnectAttemptFailure[], options: HappyEyeballsOptions): Error {
  const host = options.host ?? failures[0]?.address;
  const mapped = failures.map((failure) =>
    toConnectError(failure.error, { host, port: options.port, address: failure.address }),
  );
  let index = mapped.findIndex((error) => !(error instanceof UnreachableError));
  if (index < 0) index = 0;
  if (failures.length === 1) return mapped[0]!;
  const chosen = failures[index]!;
  const error = toConnectError(chosen.error, {
    host,
    port: options.port,
    address: chosen.address,
    attempts: failures,
  });
  const summary = failures.map((f, i) => `${formatHost(f.address)}: ${mapped[i]!.code}`).join(", ");
  error.message = `${error.message}; attempts: ${summary}`;
  return error;
}
