import type { Service } from "@tessera/core";
import type { Authority, Conn, ConnectRequest, Lookup, SocketAddress } from "@tessera/net";
import { inetSocks5Address, UNSPECIFIED } from "./address.js";
import type { Socks5Authenticator } from "./authenticator.js";
import { type CommandName, Reply } from "./constants.js";
import type { Socks5Policy } from "./policy.js";
import { encodeMessage } from "./wire.js";

/** Settings with defaults applied (internal). */
export interface ServerSettings {
  readonly authenticate: Socks5Authenticator | undefined;
  readonly allowNoAuth: boolean;
  readonly connector: Service<ConnectRequest, Conn>;
  readonly policy: Socks5Policy | undefined;
  readonly enabled: ReadonlySet<CommandName>;
  readonly handshakeTimeout: number;
  readonly bindTimeout: number;
  readonly bindHost: string | undefined;
  readonly lookup: Lookup;
  readonly maxUdpDestinations: number;
}

/** What a command handler is given once the request is accepted. */
export interface CommandContext {
  /** The client's connection, reading from after the request (pipelined bytes first). */
  readonly client: Conn;
  readonly target: Authority;
  readonly settings: ServerSettings;
}

// A command handler that has sent its success reply marks later errors, so no second reply goes out.
const ANSWERED = Symbol("tessera.socks5.answered");

/** Mark an error as raised after the success reply was sent (no failure reply may follow it). */
export function answered<E>(error: E): E {
  if (typeof error === "object" && error !== null) {
    try {
      Object.defineProperty(error, ANSWERED, { value: true });
    } catch {
      // A frozen error: the worst case is a stray failure reply on a tunnel that failed anyway.
    }
  }
  return error;
}

export function isAnswered(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { [ANSWERED]?: boolean })[ANSWERED] === true
  );
}

/**
 * A success reply carrying `address` as BND.ADDR/BND.PORT; `0.0.0.0:0` when there is none (or a Unix path).
 */
export function successReply(address: SocketAddress | undefined): Buffer {
  if (address === undefined || address.family === "unix") return encodeMessage(Reply.Succeeded, UNSPECIFIED);
  return encodeMessage(Reply.Succeeded, inetSocks5Address(address));
}
