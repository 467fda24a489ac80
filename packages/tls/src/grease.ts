/**
 * True for a GREASE value (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa. Clients put them among cipher suites,
 * extensions, groups, versions and ALPN to keep servers tolerant; fingerprints leave them out because they are
 * chosen at random per connection.
 */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}
