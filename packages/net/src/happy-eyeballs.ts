import type { Socket } from "node:net";
import { abortReason, neverAborts } from "@tessera/core";
import { formatHost } from "./address.js";
import { type ConnectAttemptFailure, toConnectError, UnreachableError } from "./errors.js";
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
  const delay = Math.max(options.attemptDelay ?? 250, MIN_ATTEMPT_DELAY);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<HappyEyeballsWinner>((resolve, reject) => {
    const pending = new Map<Socket, LookupAddress>();
    const failures: ConnectAttemptFailure[] = [];
    let next = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;

    const settle = (): void => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      signal.removeEventListener("abort", onAbort);
    };
    const destroyPending = (): void => {
      for (const socket of pending.keys()) socket.destroy();
      pending.clear();
    };
    const onAbort = (): void => {
      if (done) return;
      settle();
      destroyPending();
      reject(abortReason(signal));
    };
    const onFailure = (address: LookupAddress, error: unknown): void => {
      if (done) return;
      failures.push({
        address: address.address,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      if (next < addresses.length) {
        if (timer !== undefined) clearTimeout(timer);
        startNext();
      } else if (pending.size === 0) {
        settle();
        reject(pickError(failures, options));
      }
    };
    const startNext = (): void => {
      timer = undefined;
      const address = addresses[next++];
      if (address === undefined) return;
      let socket: Socket;
      try {
        socket = options.connect(address);
      } catch (error) {
        onFailure(address, error);
        return;
      }
      pending.set(socket, address);
      const onError = (error: Error): void => {
        if (!pending.delete(socket)) return;
        onFailure(address, error);
      };
      const onConnect = (): void => {
        if (done) return;
        settle();
        pending.delete(socket);
        // The winner is handed over: from now on its errors are its new owner's business.
        socket.off("error", onError);
        socket.off("error", ignoreError);
        destroyPending();
        resolve({ socket, address });
      };
      // Losers are destroyed without an error, but one may already have failed in the same turn: never fatal.
      socket.on("error", ignoreError);
      socket.on("error", onError);
      socket.once("connect", onConnect);
      if (next < addresses.length && Number.isFinite(delay)) timer = setTimeout(startNext, delay);
    };

    if (addresses.length === 0) {
      reject(
        toConnectError(new Error("no addresses to connect to"), { host: options.host, port: options.port }),
      );
      return;
    }
    signal.addEventListener("abort", onAbort);
    startNext();
  });
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
