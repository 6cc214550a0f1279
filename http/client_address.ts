/**
 * Who is on the other end: the client's address, and whether it came over HTTPS, believing
 * `X-Forwarded-For` and `X-Forwarded-Proto` only from the reverse proxies the caller trusts
 * (Beacon passes `config.trustedProxies`, from `BEACON_TRUSTED_PROXIES`; none by default).
 *
 * @module
 */
import type { Context } from "hono";

/** An address range: an IP version, a network and a prefix length. */
export interface AddressRange {
  /** 4 or 6. */
  version: 4 | 6;
  /** The network's first address, as a number. */
  network: bigint;
  /** The prefix length in bits. */
  prefix: number;
}

interface ParsedAddress {
  version: 4 | 6;
  value: bigint;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  let tail: bigint | null = null;
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (body.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(body.slice(lastColon + 1));
    if (tail === null) return null;
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => half === "" ? [] : half.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tail !== null) value = (value & ~0xffffffffn) | tail;
  return value;
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 counts as IPv4); null when it is not one. */
function parseAddress(text: string): ParsedAddress | null {
  const bare = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%[\w.-]+$/, "");
  const v4 = parseIpv4(bare);
  if (v4 !== null) return { version: 4, value: v4 };
  if (!bare.includes(":")) return null;
  const v6 = parseIpv6(bare);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/**
 * Parses an IP address or a CIDR range (`10.0.0.0/8`, `::1`, `fd00::/8`).
 *
 * @param text The address or range.
 * @returns The range, or null when `text` is neither.
 */
export function parseAddressRange(text: string): AddressRange | null {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const parsed = parseAddress(address);
  if (!parsed) return null;
  const bits = parsed.version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  let prefix = prefixText === undefined ? bits : Number(prefixText);
  // "::ffff:10.0.0.0/104" is an IPv4 range written as IPv6.
  if (parsed.version === 4 && address.includes(":") && prefixText !== undefined) prefix -= 96;
  if (prefix < 0 || prefix > bits) return null;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { version: parsed.version, network: parsed.value & mask, prefix };
}

const rangeCache = new WeakMap<readonly string[], AddressRange[]>();

function rangesOf(list: readonly string[]): AddressRange[] {
  let ranges = rangeCache.get(list);
  if (!ranges) {
    ranges = list.map(parseAddressRange).filter((r): r is AddressRange => r !== null);
    rangeCache.set(list, ranges);
  }
  return ranges;
}

/**
 * Whether an address falls in one of the listed ranges.
 *
 * @param address An IP address (anything else is never trusted).
 * @param trusted IP addresses and CIDR ranges.
 * @returns True when it is inside one of them.
 */
export function isTrustedAddress(address: string, trusted: readonly string[]): boolean {
  if (trusted.length === 0) return false;
  const parsed = parseAddress(address);
  if (!parsed) return false;
  const bits = parsed.version === 4 ? 32 : 128;
  return rangesOf(trusted).some((range) => {
    if (range.version !== parsed.version) return false;
    const shift = BigInt(bits - range.prefix);
    return (parsed.value >> shift) === (range.network >> shift);
  });
}

/** The address of the peer of this connection (the proxy, when there is one). */
function peerAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

/**
 * The client's address: the connection's remote address, or, when that is a trusted proxy,
 * the rightmost `X-Forwarded-For` hop that is not itself a trusted proxy (hops further left
 * were written by the client and prove nothing). With `header` (a header the proxy sets and
 * overwrites, such as `cf-connecting-ip`), a trusted peer's client is that header's address
 * instead, and the peer itself when the header is missing or not an address: then
 * `X-Forwarded-For` is never read.
 *
 * @param c The request context.
 * @param trusted The trusted proxies (IP addresses and CIDR ranges).
 * @param header The client-address header trusted proxies set, if any (lower case).
 * @returns An IP address, or `"unknown"` when the server did not say (e.g. `app.request`).
 */
export function clientAddress(c: Context, trusted: readonly string[], header?: string): string {
  const peer = peerAddress(c);
  if (!isTrustedAddress(peer, trusted)) return peer;
  if (header) {
    const value = c.req.header(header)?.trim() ?? "";
    return parseAddress(value) ? value : peer;
  }
  const forwarded = c.req.header("x-forwarded-for");
  if (!forwarded) return peer;
  const hops = forwarded.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrustedAddress(hops[i], trusted)) return hops[i].slice(0, 64);
  }
  return hops[0]?.slice(0, 64) ?? peer;
}

/**
 * Whether the request came over HTTPS: the server's own URL says so, or a trusted proxy
 * says so in `X-Forwarded-Proto` (from anyone else that header is ignored).
 *
 * @param c The request context.
 * @param trusted The trusted proxies (IP addresses and CIDR ranges).
 * @returns True for HTTPS.
 */
export function isHttps(c: Context, trusted: readonly string[]): boolean {
  if (c.req.url.startsWith("https:")) return true; // Request URLs are normalized: a lower-case scheme
  return isTrustedAddress(peerAddress(c), trusted) &&
    c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() === "https";
}

/**
 * The origin browsers see for this site: the scheme ({@linkcode isHttps}) and the `Host` the
 * request was sent to. Behind a proxy, the proxy must forward the original `Host` (and
 * `X-Forwarded-Proto` when it terminates TLS).
 *
 * @param c The request context.
 * @param trusted The trusted proxies (IP addresses and CIDR ranges).
 * @returns E.g. `https://beacon.example.com`.
 */
export function publicOrigin(c: Context, trusted: readonly string[]): string {
  return new URL(`${isHttps(c, trusted) ? "https" : "http"}://${new URL(c.req.url).host}`).origin;
}
