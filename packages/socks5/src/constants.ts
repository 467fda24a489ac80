// The numbers of RFC 1928 (SOCKS5) and RFC 1929 (username/password), by name.

export const SOCKS_VERSION = 0x05;
/** The version byte of the RFC 1929 sub-negotiation. */
export const USERPASS_VERSION = 0x01;

/** Authentication methods (RFC 1928 section 3). */
export const Method = {
  NoAuth: 0x00,
  Gssapi: 0x01,
  UsernamePassword: 0x02,
  /** The server's answer when none of the offered methods is acceptable. */
  NoAcceptable: 0xff,
} as const;

/** Request commands (RFC 1928 section 4). */
export const Command = {
  Connect: 0x01,
  Bind: 0x02,
  UdpAssociate: 0x03,
} as const;

/** Address types (RFC 1928 section 5). */
export const AddressType = {
  IPv4: 0x01,
  Domain: 0x03,
  IPv6: 0x04,
} as const;

/** Reply codes (RFC 1928 section 6). */
export const Reply = {
  Succeeded: 0x00,
  GeneralFailure: 0x01,
  NotAllowed: 0x02,
  NetworkUnreachable: 0x03,
  HostUnreachable: 0x04,
  ConnectionRefused: 0x05,
  TtlExpired: 0x06,
  CommandNotSupported: 0x07,
  AddressTypeNotSupported: 0x08,
} as const;

const REPLY_NAMES = [
  "succeeded",
  "general SOCKS server failure",
  "connection not allowed by ruleset",
  "network unreachable",
  "host unreachable",
  "connection refused",
  "TTL expired",
  "command not supported",
  "address type not supported",
];

/**
 * The RFC's name of a reply code.
 *
 * @example
 * ```ts
 * replyName(5); // "connection refused"
 * ```
 */
export function replyName(reply: number): string {
  return REPLY_NAMES[reply] ?? "unassigned";
}

/** The name of a command, as used in policies and extensions. */
export type CommandName = "connect" | "bind" | "udp-associate";

export function commandName(command: number): CommandName | undefined {
  return command === Command.Connect
    ? "connect"
    : command === Command.Bind
      ? "bind"
      : command === Command.UdpAssociate
        ? "udp-associate"
        : undefined;
}
