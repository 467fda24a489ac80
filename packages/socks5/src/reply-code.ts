import { errorCode, isTesseraError, TimeoutError } from "@tessera/core";
import {
  ConnectionRefusedError,
  ConnectTimeoutError,
  DnsError,
  InvalidAddressError,
  UnreachableError,
} from "@tessera/net";
import { Reply } from "./constants.js";
import {
  Socks5CommandNotSupportedError,
  Socks5NotAllowedError,
  Socks5ProtocolError,
  Socks5ReplyError,
} from "./errors.js";

const HOST_UNREACHABLE = new Set(["EHOSTUNREACH", "EHOSTDOWN"]);

/**
 * The reply code (RFC 1928 section 6) that tells a client why its request failed: refused 05, network
 * unreachable 03, host unreachable or no such name 04, timed out 06, not allowed 02, command not supported 07,
 * address type not supported 08, anything else 01. A Socks5ReplyError (a chained SOCKS5 proxy's answer) keeps
 * its code, so a chain of proxies reports the failure of the last hop.
 *
 * @example
 * ```ts
 * replyCodeFor(new ConnectionRefusedError("refused")); // 5
 * ```
 */
export function replyCodeFor(error: unknown): number {
  if (!isTesseraError(error)) return Reply.GeneralFailure;
  switch (error.code) {
    case Socks5ReplyError.code:
      return (error as Socks5ReplyError).reply;
    case Socks5NotAllowedError.code:
      return Reply.NotAllowed;
    case Socks5CommandNotSupportedError.code:
      return Reply.CommandNotSupported;
    case Socks5ProtocolError.code:
      return (error as Socks5ProtocolError).reason === "address-type"
        ? Reply.AddressTypeNotSupported
        : Reply.GeneralFailure;
    case ConnectionRefusedError.code:
      return Reply.ConnectionRefused;
    case UnreachableError.code: {
      const cause = errorCode(error.cause);
      return cause !== undefined && HOST_UNREACHABLE.has(cause)
        ? Reply.HostUnreachable
        : Reply.NetworkUnreachable;
    }
    case DnsError.code:
    case InvalidAddressError.code:
      return Reply.HostUnreachable;
    case ConnectTimeoutError.code:
    case TimeoutError.code:
      return Reply.TtlExpired;
    default:
      return Reply.GeneralFailure;
  }
}
