import type { Socket } from "node:net";
import { abortReason, neverAborts } from "@tessera/core";
import { formatHost } from "./address.js";
import { type ConnectAttemptFailure, connectTimeout, toConnectError, UnreachableError } from "./errors.js";
import { ignoreError } from "./lifetime.js";

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
  /** Start one attempt: a socket that will emit `'connect'` or `'error'`. */
  readonly connect: (address: LookupAddress) => Socket;
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
  return new Promise<HappyEyeballsWinner>((resolve, reject) => {
    new Race(addresses, options, signal, resolve, reject).start();
  });
}

// Each attempt's socket carries its race and address, so the listeners are shared functions (`this` is the
// socket) and the race is its own abort listener: a connector runs one race per connection, and closures made
// per call each cost a property dictionary under tsup's keepNames.
const kAttempt = Symbol("tessera.happyEyeballs.attempt");
type AttemptSocket = Socket & { [kAttempt]?: { readonly race: Race; readonly address: LookupAddress } };

function onAttemptError(this: AttemptSocket, error: Error): void {
  const attempt = this[kAttempt]!;
  attempt.race.failed(this, attempt.address, error);
}
function onAttemptConnect(this: AttemptSocket): void {
  const attempt = this[kAttempt]!;
  attempt.race.connected(this, attempt.address);
}
function startNextAttempt(race: Race): void {
  race.startNext();
}
function raceTimedOut(race: Race): void {
  race.timedOut();
}

class Race {
  readonly #addresses: readonly LookupAddress[];
  readonly #options: HappyEyeballsOptions;
  readonly #signal: AbortSignal;
  readonly #resolve: (winner: HappyEyeballsWinner) => void;
  readonly #reject: (error: Error) => void;
  readonly #delay: number;
  readonly #pending = new Set<Socket>();
  readonly #failures: ConnectAttemptFailure[] = [];
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(
    addresses: readonly LookupAddress[],
    options: HappyEyeballsOptions,
    signal: AbortSignal,
    resolve: (winner: HappyEyeballsWinner) => void,
    reject: (error: Error) => void,
  ) {
    this.#addresses = addresses;
    this.#options = options;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#delay = Math.max(options.attemptDelay ?? 250, MIN_ATTEMPT_DELAY);
  }

  start(): void {
    this.#signal.addEventListener("abort", this);
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
      socket = this.#options.connect(address);
    } catch (error) {
      this.#failure(address, error);
      return;
    }
    this.#pending.add(socket);
    socket[kAttempt] = { race: this, address };
    // Losers are destroyed without an error, but one may already have failed in the same turn: never fatal.
    socket.on("error", ignoreError);
    socket.on("error", onAttemptError);
    socket.once("connect", onAttemptConnect);
    if (this.#next < this.#addresses.length && Number.isFinite(this.#delay)) {
      this.#timer = setTimeout(startNextAttempt, this.#delay, this);
    }
  }

  failed(socket: Socket, address: LookupAddress, error: Error): void {
    if (!this.#pending.delete(socket)) return;
    this.#failure(address, error);
  }

  connected(socket: AttemptSocket, address: LookupAddress): void {
    if (this.#done) return;
    this.#settle();
    this.#pending.delete(socket);
    // The winner is handed over: from now on its errors are its new owner's business.
    socket.off("error", onAttemptError);
    socket.off("error", ignoreError);
    socket[kAttempt] = undefined;
    this.#destroyPending();
    this.#resolve({ socket, address });
  }

  /** The signal aborted. */
  handleEvent(): void {
    if (this.#done) return;
    this.#settle();
    this.#destroyPending();
    this.#reject(abortReason(this.#signal));
  }

  timedOut(): void {
    if (this.#done) return;
    this.#settle();
    this.#destroyPending();
    const { host, port, timeout, timeoutMs = timeout } = this.#options;
    const where = host ?? this.#addresses[0]?.address ?? "";
    this.#reject(connectTimeout(where, port, timeoutMs ?? 0, this.#failures[0]?.error));
  }

  #failure(address: LookupAddress, error: unknown): void {
    if (this.#done) return;
    this.#failures.push({
      address: address.address,
      error: error instanceof Error ? error : new Error(String(error)),
    });
    if (this.#next < this.#addresses.length) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.startNext();
    } else if (this.#pending.size === 0) {
      this.#settle();
      this.#reject(pickError(this.#failures, this.#options));
    }
  }

  #settle(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#timer = undefined;
    this.#signal.removeEventListener("abort", this);
  }

  #destroyPending(): void {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
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
