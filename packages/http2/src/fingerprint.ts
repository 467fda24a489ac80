import { hash } from "node:crypto";
import { type Key, key } from "@tessera/core";
import type { HeaderList } from "./header-list.js";

/** A PRIORITY frame as the fingerprint records it. */
export interface FingerprintPriority {
  readonly streamId: number;
  readonly exclusive: boolean;
  readonly dependency: number;
  /** 1 to 256 (the wire value plus one), as the Akamai format writes it. */
  readonly weight: number;
}

/**
 * What a client's first HTTP/2 frames say about the client (Akamai's "Passive Fingerprinting of HTTP/2 Clients",
 * Black Hat EU 2017): the implementation shows in choices the protocol leaves open, such as which SETTINGS it sends
 * and in what order, its connection window, the PRIORITY frames it opens with and its pseudo-header order.
 *
 * The string is `S|WU|P|PS`:
 * - `S`: the first SETTINGS frame's entries in wire order, `id:value` joined by `;` (unknown and GREASE ids kept);
 * - `WU`: the increment of the connection WINDOW_UPDATE sent before the first HEADERS, `00` if none;
 * - `P`: the PRIORITY frames before the first HEADERS, `stream:exclusive:dependency:weight` joined by `,`, `0` if
 *   none;
 * - `PS`: the first request's pseudo-headers in wire order by initial letter (`m,a,s,p` for Chrome, `m,p,a,s` for
 *   Firefox).
 *
 * @example Chrome
 * `1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p`
 */
export interface Http2Fingerprint {
  /** `[id, value]` pairs of the client's first SETTINGS, in wire order. */
  readonly settings: readonly (readonly [number, number])[];
  /** The connection WINDOW_UPDATE increment before the first HEADERS, 0 if none. */
  readonly windowUpdate: number;
  /** PRIORITY frames before the first HEADERS, in wire order. */
  readonly priorities: readonly FingerprintPriority[];
  /** The first request's pseudo-header names in wire order, e.g. `[":method", ":authority", ...]`. */
  readonly pseudoHeaders: readonly string[];
  /** The Akamai fingerprint string, `S|WU|P|PS`. */
  readonly akamai: string;
  /** The MD5 of {@link akamai}, lower-case hex (the form fingerprint databases index by). */
  readonly hash: string;
}

/**
 * The client's HTTP/2 fingerprint, on the server connection's extensions (so every request on the connection sees
 * it). Inserted when the first request's HEADERS arrives; computed on first read.
 */
export const Http2FingerprintKey: Key<Http2Fingerprint> = key<Http2Fingerprint>("tessera.http2.Fingerprint");

/** Builds the Akamai string of the parts. */
export function akamaiFingerprint(
  settings: readonly (readonly [number, number])[],
  windowUpdate: number,
  priorities: readonly FingerprintPriority[],
  pseudoHeaders: readonly string[],
): string {
  const s = settings.map(([id, value]) => `${id}:${value}`).join(";");
  const wu = windowUpdate === 0 ? "00" : String(windowUpdate);
  const p =
    priorities.length === 0
      ? "0"
      : priorities.map((f) => `${f.streamId}:${f.exclusive ? 1 : 0}:${f.dependency}:${f.weight}`).join(",");
  const ps = pseudoHeaders.map((name) => name.charAt(1)).join(",");
  return `${s}|${wu}|${p}|${ps}`;
}

/**
 * Records a server connection's early frames until the first request's HEADERS, then builds the fingerprint.
 * Cheap by design: a few field writes per early frame, nothing after the first HEADERS, the string and hash only
 * when someone reads the key.
 */
export class FingerprintRecorder {
  #settings: (readonly [number, number])[] | undefined;
  #windowUpdate = 0;
  #priorities: FingerprintPriority[] = [];

  /** A non-ACK SETTINGS frame's flat `[id, value, ...]` entries: the first one is kept. */
  settings(flat: readonly number[]): void {
    if (this.#settings !== undefined) return;
    const pairs: (readonly [number, number])[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
    this.#settings = pairs;
  }

  /** A WINDOW_UPDATE on stream 0 before the first HEADERS: the first one is kept. */
  windowUpdate(increment: number): void {
    if (this.#windowUpdate === 0) this.#windowUpdate = increment;
  }

  /** A PRIORITY frame before the first HEADERS (bounded: a client opening with thousands is not remembered). */
  priority(streamId: number, exclusive: boolean, dependency: number, weight: number): void {
    if (this.#priorities.length < MAX_PRIORITIES) {
      this.#priorities.push({ streamId, exclusive, dependency, weight });
    }
  }

  /** The first HEADERS: the fingerprint is complete. Returns a factory for the key's lazy value. */
  finish(list: HeaderList): () => Http2Fingerprint {
    const pseudoHeaders: string[] = [];
    const fields = list.fields;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.charCodeAt(0) !== 0x3a) break; // pseudo-headers come first; a malformed order is rejected later
      pseudoHeaders.push(name);
    }
    const settings = this.#settings ?? [];
    const windowUpdate = this.#windowUpdate;
    const priorities = this.#priorities;
    return () => {
      const akamai = akamaiFingerprint(settings, windowUpdate, priorities, pseudoHeaders);
      return {
        settings,
        windowUpdate,
        priorities,
        pseudoHeaders,
        akamai,
        hash: hash("md5", akamai, "hex"),
      };
    };
  }
}

/** PRIORITY frames remembered before the first HEADERS (Firefox up to 119 sent 6). */
const MAX_PRIORITIES = 32;
