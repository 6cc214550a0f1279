/**
 * Time-ordered event ids: UUID version 7 (RFC 9562), as posthog-js and other current SDKs
 * make them. Ids made close in time sort close together, so the idempotency table's key
 * (`private.event_ids`) grows at its right edge instead of touching a random page per event.
 *
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A UUID version 7: 48 bits of Unix time in milliseconds, the version and variant bits, and
 * 74 random bits.
 *
 * @param ms The instant it is made at (milliseconds since 1970), by default now; whole
 *   milliseconds from 0 to 2^48 - 1.
 * @returns The UUID, lower case with dashes.
 *
 * @example
 * ```ts
 * const id = uuidV7(); // e.g. "019d1c5e-8a3b-7f21-9c4d-5e6f708192a3"
 * ```
 */
export function uuidV7(ms: number = Date.now()): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new RangeError(`uuidV7: ${ms} is not a whole number of milliseconds from 0 to 2^48 - 1`);
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  // 48-bit big-endian time: the high 16 bits, then the low 32.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms >>> 0;
  b[0] = high >>> 8;
  b[1] = high & 0xff;
  b[2] = low >>> 24;
  b[3] = (low >>> 16) & 0xff;
  b[4] = (low >>> 8) & 0xff;
  b[5] = low & 0xff;
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  return HEX[b[0]] + HEX[b[1]] + HEX[b[2]] + HEX[b[3]] + "-" + HEX[b[4]] + HEX[b[5]] + "-" +
    HEX[b[6]] + HEX[b[7]] + "-" + HEX[b[8]] + HEX[b[9]] + "-" + HEX[b[10]] + HEX[b[11]] +
    HEX[b[12]] + HEX[b[13]] + HEX[b[14]] + HEX[b[15]];
}

/**
 * The instant a UUID version 7 was made at.
 *
 * @param id A UUID.
 * @returns Milliseconds since 1970, or null when `id` is not a UUID version 7.
 */
export function uuidV7Time(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) {
    return null;
  }
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
