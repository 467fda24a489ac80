import type { ClientConnectionOptions } from "@tessera/http";
import { MAX_WINDOW_SIZE } from "./constants.js";
import type { PrioritySpec } from "./frame-types.js";
import type { SettingsEntries } from "./frame-writer.js";
import { checkPseudoHeaderOrder, DEFAULT_PSEUDO_HEADER_ORDER, type PseudoHeader } from "./request-fields.js";
import { isValidSettingValue, SettingId } from "./settings.js";

/** A PRIORITY frame the client sends before its first HEADERS (as Firefox did up to version 119). */
export interface PriorityFrameSpec {
  readonly streamId: number;
  readonly priority: PrioritySpec;
}

/**
 * Options of {@link clientConnection}. The defaults suit a fast client; `settings`, `windowUpdate`,
 * `pseudoHeaderOrder`, `headerPriority` and `priorityFrames` say exactly what goes on the wire, so the client can
 * present a browser's HTTP/2 fingerprint (the Akamai `S|WU|P|PS` string).
 *
 * @example Chrome's HTTP/2 fingerprint `1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p`
 * ```ts
 * const chrome: Http2ClientOptions = {
 *   settings: [[1, 65536], [2, 0], [4, 6291456], [6, 262144]],
 *   windowUpdate: 15663105,
 *   pseudoHeaderOrder: ["method", "authority", "scheme", "path"],
 *   headerPriority: { dependency: 0, weight: 256, exclusive: true },
 * };
 * ```
 */
export interface Http2ClientOptions extends ClientConnectionOptions {
  /**
   * The SETTINGS frame to send, entries in this order (ids may repeat or be unknown, as GREASE). Our own limits
   * follow from it (our stream window is its INITIAL_WINDOW_SIZE, and so on). Default:
   * ENABLE_PUSH 0, INITIAL_WINDOW_SIZE `initialWindowSize`, MAX_HEADER_LIST_SIZE `maxHeaderListSize`.
   */
  readonly settings?: SettingsEntries;
  /** Our receive window per stream when `settings` is not given. Default 1 MiB. */
  readonly initialWindowSize?: number;
  /** Largest response header list accepted when `settings` is not given. Default 64 KiB. */
  readonly maxHeaderListSize?: number;
  /**
   * The increment of the connection-level WINDOW_UPDATE sent right after SETTINGS (0: none). Default: enough for
   * a 16 MiB connection window (16 MiB - 65535).
   */
  readonly windowUpdate?: number;
  /** The order of `:method`, `:authority`, `:scheme`, `:path`. Default Chrome's (`m,a,s,p`). */
  readonly pseudoHeaderOrder?: readonly PseudoHeader[];
  /** PRIORITY fields on every request's HEADERS frame (Chrome: weight 256, exclusive, on 0). Default none. */
  readonly headerPriority?: PrioritySpec;
  /** PRIORITY frames sent once, before the first HEADERS. Default none. */
  readonly priorityFrames?: readonly PriorityFrameSpec[];
  /** Most streams this client opens at once, on top of the server's MAX_CONCURRENT_STREAMS. Default 1000. */
  readonly maxConcurrentStreams?: number;
  /** `:scheme` for requests in origin form. Default: "https" when TLS negotiated the connection (ALPN), else "http". */
  readonly scheme?: string;
  /** How long to wait for the server's SETTINGS (the connection is not handed out before). Default 10 s. */
  readonly handshakeTimeout?: number;
  /** How long the server may take to acknowledge our SETTINGS. Default 10 s. */
  readonly settingsTimeout?: number;
  /** Output bytes buffered before DATA framing waits for the socket. Default 64 KiB. */
  readonly outputHighWaterMark?: number;
}

/** {@link Http2ClientOptions} with defaults applied and ranges checked. */
export interface ResolvedHttp2ClientOptions {
  readonly settings: SettingsEntries;
  readonly windowUpdate: number;
  readonly pseudoHeaderOrder: readonly PseudoHeader[];
  readonly headerPriority: PrioritySpec | undefined;
  readonly priorityFrames: readonly PriorityFrameSpec[];
  readonly maxConcurrentStreams: number;
  readonly scheme: string | undefined;
  readonly handshakeTimeout: number;
  readonly settingsTimeout: number;
  readonly outputHighWaterMark: number;
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

const DEFAULT_CONNECTION_WINDOW = 16 * 1024 * 1024;

/** Fills in defaults and checks ranges (a RangeError names the bad option). */
export function resolveClientOptions(options: Http2ClientOptions = {}): ResolvedHttp2ClientOptions {
  const big = Number.MAX_SAFE_INTEGER;
  let settings = options.settings;
  if (settings === undefined) {
    settings = [
      [SettingId.ENABLE_PUSH, 0],
      [
        SettingId.INITIAL_WINDOW_SIZE,
        integer("initialWindowSize", options.initialWindowSize, 1024 * 1024, 1, MAX_WINDOW_SIZE),
      ],
      [
        SettingId.MAX_HEADER_LIST_SIZE,
        integer("maxHeaderListSize", options.maxHeaderListSize, 64 * 1024, 1, 0xffffffff),
      ],
    ];
  } else {
    for (const [id, value] of settings) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffff || !isValidSettingValue(id, value)) {
        throw new RangeError(`settings: bad entry [${id}, ${value}]`);
      }
    }
  }
  return {
    settings,
    windowUpdate: integer(
      "windowUpdate",
      options.windowUpdate,
      DEFAULT_CONNECTION_WINDOW - 65_535,
      0,
      MAX_WINDOW_SIZE - 65_535,
    ),
    pseudoHeaderOrder:
      options.pseudoHeaderOrder === undefined
        ? DEFAULT_PSEUDO_HEADER_ORDER
        : checkPseudoHeaderOrder(options.pseudoHeaderOrder),
    headerPriority: options.headerPriority,
    priorityFrames: options.priorityFrames ?? [],
    maxConcurrentStreams: integer("maxConcurrentStreams", options.maxConcurrentStreams, 1000, 1, 0x7fffffff),
    scheme: options.scheme,
    handshakeTimeout: integer("handshakeTimeout", options.handshakeTimeout, 10_000, 1, big),
    settingsTimeout: integer("settingsTimeout", options.settingsTimeout, 10_000, 1, big),
    outputHighWaterMark: integer("outputHighWaterMark", options.outputHighWaterMark, 64 * 1024, 1, big),
  };
}
