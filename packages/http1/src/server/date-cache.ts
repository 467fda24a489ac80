// The Date header changes once a second, and formatting it (toUTCString) costs about as much as serializing the
// rest of a small response head. So the whole field line is kept and rebuilt at most once per second: the cache
// is dropped by a timer at the next second boundary (unref'd, so it never keeps a process alive). Between two
// boundaries every response reuses the same string, with no Date.now() call on the hot path.

let cached: string | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function expire(): void {
  cached = undefined;
  timer = undefined;
}

/**
 * The field line `Date: <IMF-fixdate>\r\n` for the current second (RFC 9110 6.6.1), cached for the rest of it.
 *
 * @example
 * ```ts
 * dateLine(); // "Date: Tue, 15 Nov 1994 08:12:31 GMT\r\n"
 * ```
 */
export function dateLine(): string {
  if (cached !== undefined) return cached;
  const now = Date.now();
  cached = `Date: ${new Date(now).toUTCString()}\r\n`;
  timer = setTimeout(expire, 1000 - (now % 1000));
  timer.unref?.();
  return cached;
}
