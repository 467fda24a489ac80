import type { Shutdown } from "@tessera/core";
import type { Conn } from "@tessera/net";
import { MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE } from "./constants.js";

/** Options of {@link server}. Every limit has a default that is safe to face the Internet with. */
export interface Http2ServerOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; a stream past it is refused (REFUSED_STREAM). Default 100. */
  readonly maxConcurrentStreams?: number;
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE we advertise: how much request body a client may send on one stream before the
   * handler reads it. It is also the most a stream buffers for a slow handler. Default 65535.
   */
  readonly initialWindowSize?: number;
  /** The connection-level receive window (summed over streams). Default 1 MiB. */
  readonly connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise and accept. Default 16384. */
  readonly maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (stream error past it). Default 64 KiB. */
  readonly maxHeaderListSize?: number;
  /** A connection with no open stream for this long drains (GOAWAY NO_ERROR, then close). Default 60 s. */
  readonly idleTimeout?: number;
  /** How long the client has to ACK our SETTINGS before SETTINGS_TIMEOUT. Default 10 s. */
  readonly settingsTimeout?: number;
  /**
   * Rapid Reset defence (CVE-2023-44487, and MadeYouReset): most stream resets, sent or received, per
   * `floodWindow`; past it the connection ends with ENHANCE_YOUR_CALM. Default 200.
   */
  readonly maxResetsPerWindow?: number;
  /** Empty-frame flood defence: most zero-length DATA frames without END_STREAM per `floodWindow`. Default 100. */
  readonly maxEmptyFramesPerWindow?: number;
  /** The window, in ms, of the flood counters above. Default 1000. */
  readonly floodWindow?: number;
  /**
   * Most control frames (PING ACK, SETTINGS ACK, RST_STREAM) queued while the client is not reading what we
   * send; past it, ENHANCE_YOUR_CALM (the SETTINGS/PING flood). Default 1000.
   */
  readonly maxPendingControlFrames?: number;
  /** Bytes of output buffered (socket plus frame writer) before DATA stops being framed. Default 64 KiB. */
  readonly outputHighWaterMark?: number;
  /** Graceful shutdown: when its signal aborts, the connection drains (as for net's `Draining`). */
  readonly shutdown?: Shutdown;
  /** Called with connection errors (the peer's or ours) before the connection closes. */
  readonly onError?: (error: Error, conn: Conn) => void;
}

/** {@link Http2ServerOptions} with every default filled in. */
export interface ResolvedHttp2ServerOptions {
  readonly maxConcurrentStreams: number;
  readonly initialWindowSize: number;
  readonly connectionWindowSize: number;
  readonly maxFrameSize: number;
  readonly maxHeaderListSize: number;
  readonly settingsTimeout: number;
  readonly idleTimeout: number;
  readonly maxResetsPerWindow: number;
  readonly maxEmptyFramesPerWindow: number;
  readonly floodWindow: number;
  readonly maxPendingControlFrames: number;
  readonly outputHighWaterMark: number;
  readonly shutdown: Shutdown | undefined;
  readonly onError: ((error: Error, conn: Conn) => void) | undefined;
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

/** Fills in defaults and checks ranges (a RangeError names the bad option). */
export function resolveServerOptions(options: Http2ServerOptions = {}): ResolvedHttp2ServerOptions {
  const big = Number.MAX_SAFE_INTEGER;
  return {
    maxConcurrentStreams: integer("maxConcurrentStreams", options.maxConcurrentStreams, 100, 1, 0xffffffff),
    initialWindowSize: integer("initialWindowSize", options.initialWindowSize, 65_535, 1, MAX_WINDOW_SIZE),
    connectionWindowSize: integer(
      "connectionWindowSize",
      options.connectionWindowSize,
      1024 * 1024,
      65_535,
      MAX_WINDOW_SIZE,
    ),
    maxFrameSize: integer(
      "maxFrameSize",
      options.maxFrameSize,
      MIN_MAX_FRAME_SIZE,
      MIN_MAX_FRAME_SIZE,
      0xffffff,
    ),
    maxHeaderListSize: integer("maxHeaderListSize", options.maxHeaderListSize, 64 * 1024, 1, 0xffffffff),
    idleTimeout: integer("idleTimeout", options.idleTimeout, 60_000, 1, big),
    settingsTimeout: integer("settingsTimeout", options.settingsTimeout, 10_000, 1, big),
    maxResetsPerWindow: integer("maxResetsPerWindow", options.maxResetsPerWindow, 200, 1, big),
    maxEmptyFramesPerWindow: integer("maxEmptyFramesPerWindow", options.maxEmptyFramesPerWindow, 100, 1, big),
    floodWindow: integer("floodWindow", options.floodWindow, 1000, 1, big),
    maxPendingControlFrames: integer(
      "maxPendingControlFrames",
      options.maxPendingControlFrames,
      1000,
      1,
      big,
    ),
    outputHighWaterMark: integer("outputHighWaterMark", options.outputHighWaterMark, 64 * 1024, 1, big),
    shutdown: options.shutdown,
    onError: options.onError,
  };
}
