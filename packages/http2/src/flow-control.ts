import { MAX_WINDOW_SIZE } from "./constants.js";
import { type ErrorScope, Http2FlowControlError } from "./errors.js";

/**
 * What we may still send on a stream or the connection (RFC 9113 6.9). It may go negative when the peer lowers
 * SETTINGS_INITIAL_WINDOW_SIZE under data already sent (6.9.2); nothing is sent until it is positive again.
 */
export class SendWindow {
  size: number;
  constructor(initial: number) {
    this.size = initial;
  }

  /** WINDOW_UPDATE: past 2^31-1 is a FLOW_CONTROL_ERROR of `scope` (stream or connection, 6.9.1). */
  increase(increment: number, scope: ErrorScope, streamId: number): void {
    const next = this.size + increment;
    if (next > MAX_WINDOW_SIZE) {
      throw new Http2FlowControlError(`window grew past 2^31-1 (${next})`, scope, streamId);
    }
    this.size = next;
  }

  /** A SETTINGS_INITIAL_WINDOW_SIZE change: an overflow is always a connection error (6.9.2). */
  adjust(delta: number, streamId: number): void {
    const next = this.size + delta;
    if (next > MAX_WINDOW_SIZE) {
      throw new Http2FlowControlError(`SETTINGS_INITIAL_WINDOW_SIZE change overflows stream ${streamId}`);
    }
    this.size = next;
  }
}

/**
 * What the peer may still send us, and the credit to give back. Bytes are returned (WINDOW_UPDATE) only once
 * the application consumed them, so a slow reader stops the peer; and only in batches of half the target window,
 * so a peer dribbling one-byte DATA frames does not get one WINDOW_UPDATE per frame.
 */
export class ReceiveWindow {
  /** Bytes the peer may still send before it must wait. */
  available: number;
  /** The initial window the peer counts this stream from (its view of our SETTINGS_INITIAL_WINDOW_SIZE). */
  #initial: number;
  /** The window we aim to keep open. */
  #target: number;
  /** Consumed bytes not yet returned with a WINDOW_UPDATE. */
  #owed = 0;

  constructor(initial: number, target: number = initial) {
    this.available = initial;
    this.#initial = initial;
    this.#target = target;
  }

  /** DATA of `length` octets (padding included) arrived: false when it does not fit (FLOW_CONTROL_ERROR). */
  receive(length: number): boolean {
    if (length > this.available) return false;
    this.available -= length;
    return true;
  }

  /** `bytes` were consumed: returns the WINDOW_UPDATE increment to send now, or 0 to wait for more. */
  consumed(bytes: number): number {
    this.#owed += bytes;
    if (this.#owed < this.#target / 2) return 0;
    const increment = this.#owed;
    this.#owed = 0;
    this.available += increment;
    return increment;
  }

  /**
   * Our SETTINGS_INITIAL_WINDOW_SIZE took effect (the peer ACKed it): the peer moved the window of this stream by
   * the difference between the new initial size and the one it counted from (RFC 9113 6.9.2), so we do too.
   */
  retarget(initial: number): void {
    this.available += initial - this.#initial;
    this.#initial = initial;
    this.#target = initial;
  }
}
