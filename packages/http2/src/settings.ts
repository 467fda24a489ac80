import { MAX_MAX_FRAME_SIZE, MAX_UINT32, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE } from "./constants.js";
import { type Http2Error, Http2FlowControlError, Http2ProtocolError } from "./errors.js";

/**
 * SETTINGS parameter identifiers: RFC 9113 6.5.2, plus ENABLE_CONNECT_PROTOCOL (RFC 8441, extended CONNECT for
 * WebSockets) and NO_RFC7540_PRIORITIES (RFC 9218). Other identifiers are legal and ignored by a receiver
 * (browsers send GREASE ids such as 0x0a0a); they stay in a SETTINGS frame's entries for fingerprinting.
 */
export const SettingId = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
} as const);
/** One of the known SETTINGS identifiers. */
export type SettingId = (typeof SettingId)[keyof typeof SettingId];

/**
 * The settings of one endpoint, by name. "Unlimited" (no MAX_CONCURRENT_STREAMS or MAX_HEADER_LIST_SIZE sent)
 * is `Infinity`.
 */
export interface Http2Settings {
  /** Largest HPACK dynamic table the sender's decoder allows (its peer's encoder may use). Default 4096. */
  readonly headerTableSize: number;
  /** 0 or 1: whether the sender accepts PUSH_PROMISE. Default 1 (a server never sends it). */
  readonly enablePush: number;
  /** Most streams the sender lets its peer open at once. Default unlimited. */
  readonly maxConcurrentStreams: number;
  /** Initial flow-control window of each new stream, 0 to 2^31-1. Default 65535. */
  readonly initialWindowSize: number;
  /** Largest frame payload the sender accepts, 16384 to 2^24-1. Default 16384. */
  readonly maxFrameSize: number;
  /** Largest header list the sender accepts (advisory; RFC 9113 6.5.2 size). Default unlimited. */
  readonly maxHeaderListSize: number;
  /** 0 or 1 (RFC 8441). Default 0. */
  readonly enableConnectProtocol: number;
  /** 0 or 1 (RFC 9218). Default 0. */
  readonly noRfc7540Priorities: number;
}

/** The values every endpoint starts with, before any SETTINGS frame (RFC 9113 6.5.2). */
export const DEFAULT_SETTINGS: Readonly<Http2Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: 1,
  maxConcurrentStreams: Number.POSITIVE_INFINITY,
  initialWindowSize: 65_535,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  maxHeaderListSize: Number.POSITIVE_INFINITY,
  enableConnectProtocol: 0,
  noRfc7540Priorities: 0,
});

const KEY_BY_ID: Readonly<Record<number, keyof Http2Settings>> = Object.freeze({
  [SettingId.HEADER_TABLE_SIZE]: "headerTableSize",
  [SettingId.ENABLE_PUSH]: "enablePush",
  [SettingId.MAX_CONCURRENT_STREAMS]: "maxConcurrentStreams",
  [SettingId.INITIAL_WINDOW_SIZE]: "initialWindowSize",
  [SettingId.MAX_FRAME_SIZE]: "maxFrameSize",
  [SettingId.MAX_HEADER_LIST_SIZE]: "maxHeaderListSize",
  [SettingId.ENABLE_CONNECT_PROTOCOL]: "enableConnectProtocol",
  [SettingId.NO_RFC7540_PRIORITIES]: "noRfc7540Priorities",
});

const ID_BY_KEY: Readonly<Record<keyof Http2Settings, SettingId>> = Object.freeze({
  headerTableSize: SettingId.HEADER_TABLE_SIZE,
  enablePush: SettingId.ENABLE_PUSH,
  maxConcurrentStreams: SettingId.MAX_CONCURRENT_STREAMS,
  initialWindowSize: SettingId.INITIAL_WINDOW_SIZE,
  maxFrameSize: SettingId.MAX_FRAME_SIZE,
  maxHeaderListSize: SettingId.MAX_HEADER_LIST_SIZE,
  enableConnectProtocol: SettingId.ENABLE_CONNECT_PROTOCOL,
  noRfc7540Priorities: SettingId.NO_RFC7540_PRIORITIES,
});

/**
 * The name of a SETTINGS identifier (`"MAX_FRAME_SIZE"`), or `"UNKNOWN_0x.."`.
 *
 * @example
 * ```ts
 * settingName(0x4); // "INITIAL_WINDOW_SIZE"
 * ```
 */
export function settingName(id: number): string {
  for (const [name, value] of Object.entries(SettingId)) if (value === id) return name;
  return `UNKNOWN_0x${id.toString(16)}`;
}

/**
 * Checks one received setting against its valid range (RFC 9113 6.5.2, RFC 8441, RFC 9218) and returns the
 * connection error to raise, or null when the value is fine. Unknown identifiers are always fine.
 *
 * ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL and NO_RFC7540_PRIORITIES must be 0 or 1 (PROTOCOL_ERROR);
 * INITIAL_WINDOW_SIZE at most 2^31-1 (FLOW_CONTROL_ERROR); MAX_FRAME_SIZE within [16384, 2^24-1]
 * (PROTOCOL_ERROR).
 *
 * @example
 * ```ts
 * checkSetting(SettingId.MAX_FRAME_SIZE, 100)?.code; // "ERR_HTTP2_PROTOCOL"
 * checkSetting(SettingId.INITIAL_WINDOW_SIZE, 2 ** 31)?.errorName; // "FLOW_CONTROL_ERROR"
 * checkSetting(0x0a0a, 7); // null (unknown ids are ignored)
 * ```
 */
export function checkSetting(id: number, value: number): Http2Error | null {
  switch (id) {
    case SettingId.ENABLE_PUSH:
    case SettingId.ENABLE_CONNECT_PROTOCOL:
    case SettingId.NO_RFC7540_PRIORITIES:
      return value <= 1
        ? null
        : new Http2ProtocolError(`SETTINGS ${settingName(id)} must be 0 or 1, got ${value}`);
    case SettingId.INITIAL_WINDOW_SIZE:
      return value <= MAX_WINDOW_SIZE
        ? null
        : new Http2FlowControlError(`SETTINGS_INITIAL_WINDOW_SIZE ${value} is above 2^31-1`);
    case SettingId.MAX_FRAME_SIZE:
      return value >= MIN_MAX_FRAME_SIZE && value <= MAX_MAX_FRAME_SIZE
        ? null
        : new Http2ProtocolError(`SETTINGS_MAX_FRAME_SIZE ${value} is outside [16384, 2^24-1]`);
    default:
      return null;
  }
}

/**
 * The settings after applying the entries of a SETTINGS frame (flat `[id, value, id, value, ...]` as on
 * `Frame.settings`), in order: a later entry for the same id wins, unknown ids are ignored. The entries are
 * assumed valid (the frame reader has checked them).
 *
 * @example
 * ```ts
 * const peer = applySettings(DEFAULT_SETTINGS, frame.settings);
 * peer.initialWindowSize; // e.g. 6291456 from Chrome
 * ```
 */
export function applySettings(base: Http2Settings, entries: readonly number[]): Http2Settings {
  const next: { -readonly [K in keyof Http2Settings]: number } = { ...base };
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const key = KEY_BY_ID[entries[i]!];
    if (key !== undefined) next[key] = entries[i + 1]!;
  }
  return next;
}

/**
 * Turns named settings into `[id, value]` entries for a SETTINGS frame, in the order the object lists them
 * (SETTINGS order is part of a client's fingerprint, so it is the caller's to choose). Infinite values are left
 * out (that is how "unlimited" is said: by not sending the setting).
 *
 * @example
 * ```ts
 * settingsEntries({ headerTableSize: 65536, enablePush: 0, initialWindowSize: 6291456 });
 * // [[1, 65536], [2, 0], [4, 6291456]]
 * ```
 */
export function settingsEntries(settings: Partial<Http2Settings>): [number, number][] {
  const out: [number, number][] = [];
  for (const [key, value] of Object.entries(settings) as [keyof Http2Settings, number | undefined][]) {
    const id = ID_BY_KEY[key];
    if (id === undefined) throw new TypeError(`unknown setting ${JSON.stringify(key)}`);
    if (value === undefined || value === Number.POSITIVE_INFINITY) continue;
    out.push([id, value]);
  }
  return out;
}

/** True when `value` can be sent for setting `id` (a uint32 within the setting's range). */
export function isValidSettingValue(id: number, value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_UINT32 && checkSetting(id, value) === null;
}
