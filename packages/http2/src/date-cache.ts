// The date field changes once a second and toUTCString costs about as much as HPACK-encoding a small response
// head, so the value is kept and rebuilt at most once per second: a timer (unref'd) drops it at the next second
// boundary. Between boundaries every response reuses the same string, which HPACK then sends as one indexed byte.

let cached: string | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function expire(): void {
  cached = undefined;
  timer = undefined;
}

/**
 * The value of the `date` field for the current second (RFC 9110 6.6.1), cached for the rest of it.
 *
 * @example
 * ```ts
 * httpDate(); // "Tue, 15 Nov 1994 08:12:31 GMT"
 * ```
 */
export function httpDate(): string {
  if (cached !== undefined) return cached;
  const now = Date.now();
  cached = new Date(now).toUTCString();
  timer = setTimeout(expire, 1000 - (now % 1000));
  timer.unref?.();
  return cached;
}
