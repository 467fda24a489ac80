// Numbers of the HTTP/2 wire format (RFC 9113 sections 4, 6, 7 and 11), as plain frozen objects rather than TS
// enums: they erase to nothing, tree-shake, and read the same in JavaScript and TypeScript.

/**
 * Frame types defined by RFC 9113 section 6. Any other type is an extension frame: a receiver ignores it
 * (section 4.1), and the frame reader still reports it so fingerprinting can see it.
 *
 * @example
 * ```ts
 * if (frame.type === FrameType.HEADERS) decoder.decode(frame.data, frame.streamId);
 * ```
 */
export const FrameType = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const);
/** One of the RFC 9113 frame types (a frame's `type` may also be any other byte: an extension frame). */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Extension frame types registered with IANA, named for logs and fingerprints (the reader does not parse them). */
export const ExtensionFrameType = Object.freeze({
  /** RFC 7838. */
  ALTSVC: 0xa,
  /** RFC 8336. */
  ORIGIN: 0xc,
  /** RFC 9218. */
  PRIORITY_UPDATE: 0x10,
} as const);

/**
 * Frame flags (RFC 9113 section 6). `ACK` and `END_STREAM` share bit 0x1: which one it is depends on the frame
 * type (ACK on SETTINGS and PING, END_STREAM on DATA and HEADERS).
 */
export const FrameFlag = Object.freeze({
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const);

/**
 * Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7). Unknown codes received from a peer are legal and
 * must not trigger special behaviour; {@link errorCodeName} names them `UNKNOWN_0x..`.
 */
export const ErrorCode = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const);
/** One of the RFC 9113 error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Length of the fixed frame header: 24-bit length, 8-bit type, 8-bit flags, reserved bit + 31-bit stream id. */
export const FRAME_HEADER_LENGTH = 9;
/** The largest stream identifier (and GOAWAY last-stream-id): 2^31-1. */
export const MAX_STREAM_ID = 0x7fffffff;
/** The largest flow-control window and WINDOW_UPDATE increment: 2^31-1 (RFC 9113 6.9.1). */
export const MAX_WINDOW_SIZE = 0x7fffffff;
/** Every endpoint must accept frames of this size; SETTINGS_MAX_FRAME_SIZE cannot go below it. */
export const MIN_MAX_FRAME_SIZE = 16_384;
/** The largest value SETTINGS_MAX_FRAME_SIZE may take: 2^24-1, what the 24-bit length field can hold. */
export const MAX_MAX_FRAME_SIZE = 0xffffff;
/** The largest PING/SETTINGS value and error code: the 32-bit fields. */
export const MAX_UINT32 = 0xffffffff;

const FRAME_TYPE_NAMES: readonly string[] = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
  "ALTSVC",
  "UNKNOWN_0xb",
  "ORIGIN",
];

const ERROR_CODE_NAMES: readonly string[] = Object.keys(ErrorCode);

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The name of a frame type: `"HEADERS"`, `"PRIORITY_UPDATE"`, or `"UNKNOWN_0x.."` for unregistered types.
 *
 * @example
 * ```ts
 * frameTypeName(0x4); // "SETTINGS"
 * frameTypeName(0xfa); // "UNKNOWN_0xfa"
 * ```
 */
export function frameTypeName(type: number): string {
  if (type === ExtensionFrameType.PRIORITY_UPDATE) return "PRIORITY_UPDATE";
  return FRAME_TYPE_NAMES[type] ?? `UNKNOWN_${hex(type)}`;
}

/**
 * The name of an error code: `"PROTOCOL_ERROR"`, or `"UNKNOWN_0x.."` for codes RFC 9113 does not define.
 *
 * @example
 * ```ts
 * errorCodeName(ErrorCode.ENHANCE_YOUR_CALM); // "ENHANCE_YOUR_CALM"
 * errorCodeName(0x1234); // "UNKNOWN_0x1234"
 * ```
 */
export function errorCodeName(code: number): string {
  return ERROR_CODE_NAMES[code] ?? `UNKNOWN_${hex(code)}`;
}

/** True for the ten frame types of RFC 9113 (0x0 to 0x9); anything else is an extension frame. */
export function isCoreFrameType(type: number): type is FrameType {
  return type >= 0 && type <= FrameType.CONTINUATION && Number.isInteger(type);
}
