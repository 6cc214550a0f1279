/**
 * Framing PostgreSQL wire-protocol messages (protocol 3.0): the untyped startup packets a
 * client sends first, the typed messages after, and the few messages Beacon's wire layer
 * writes itself (authentication requests, errors).
 *
 * @module
 */

/** The protocol version 3.0 code in a StartupMessage. */
export const PROTOCOL_3 = 196608;
/** The code of an SSLRequest. */
export const SSL_REQUEST = 80877103;
/** The code of a GSSENCRequest. */
export const GSSENC_REQUEST = 80877104;
/** The code of a CancelRequest. */
export const CANCEL_REQUEST = 80877102;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Collects bytes from a stream and hands out whole messages. */
export class MessageBuffer {
  #bytes: Uint8Array = new Uint8Array(0);

  /**
   * Adds bytes.
   *
   * @param chunk What arrived.
   */
  push(chunk: Uint8Array): void {
    if (this.#bytes.length === 0) {
      this.#bytes = chunk;
      return;
    }
    const joined = new Uint8Array(this.#bytes.length + chunk.length);
    joined.set(this.#bytes);
    joined.set(chunk, this.#bytes.length);
    this.#bytes = joined;
  }

  /** Bytes held that do not yet make a whole message. */
  get pending(): number {
    return this.#bytes.length;
  }

  /**
   * Takes the next whole message, header included, when there is one.
   *
   * @param startup Whether it is an untyped startup packet (length first, no type byte).
   * @returns The message, or undefined until more bytes arrive.
   */
  next(startup = false): Uint8Array | undefined {
    const headerLength = startup ? 4 : 5;
    if (this.#bytes.length < headerLength) return undefined;
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.length);
    const length = (startup ? 0 : 1) + view.getInt32(startup ? 0 : 1);
    if (length < headerLength - 1 || length > 64 * 1024 * 1024) {
      throw new Error("malformed message length");
    }
    if (this.#bytes.length < length) return undefined;
    const message = this.#bytes.subarray(0, length);
    this.#bytes = this.#bytes.subarray(length);
    return message;
  }
}

/**
 * Reads the parameters of a StartupMessage (`user`, `database`, ...).
 *
 * @param message The whole packet.
 * @returns The protocol code and the parameters.
 */
export function readStartup(message: Uint8Array): { code: number; params: Map<string, string> } {
  const view = new DataView(message.buffer, message.byteOffset, message.length);
  const code = view.getInt32(4);
  const params = new Map<string, string>();
  if (code === PROTOCOL_3) {
    const parts = decoder.decode(message.subarray(8)).split("\0");
    for (let i = 0; i + 1 < parts.length && parts[i] !== ""; i += 2) {
      params.set(parts[i], parts[i + 1]);
    }
  }
  return { code, params };
}

/**
 * Builds a typed message.
 *
 * @param type The type byte, e.g. `"R"`.
 * @param body The body.
 * @returns The message.
 */
export function typed(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

function int32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * An authentication request: SASL with SCRAM-SHA-256 (10), SASLContinue (11), SASLFinal (12).
 *
 * @param code 10, 11 or 12.
 * @param data The mechanism list or the SCRAM message.
 * @returns The `R` message.
 */
export function authentication(code: 10 | 11 | 12, data: string): Uint8Array {
  return typed("R", concat(int32(code), encoder.encode(data)));
}

/** The AuthenticationSASL request offering SCRAM-SHA-256. */
export function saslOffer(): Uint8Array {
  return authentication(10, "SCRAM-SHA-256\0\0");
}

/**
 * Reads a SASLInitialResponse or SASLResponse (`p`).
 *
 * @param message The whole message.
 * @param initial Whether it is the first one (mechanism name and length first).
 * @returns The mechanism (initial only) and the SCRAM message.
 */
export function readSasl(
  message: Uint8Array,
  initial: boolean,
): { mechanism?: string; data: string } | undefined {
  if (message[0] !== 0x70) return undefined;
  const body = message.subarray(5);
  if (!initial) return { data: decoder.decode(body) };
  const nul = body.indexOf(0);
  if (nul < 0 || body.length < nul + 5) return undefined;
  const mechanism = decoder.decode(body.subarray(0, nul));
  const length = new DataView(body.buffer, body.byteOffset + nul + 1, 4).getInt32(0);
  const data = length < 0 ? "" : decoder.decode(body.subarray(nul + 5, nul + 5 + length));
  return { mechanism, data };
}

/**
 * An ErrorResponse.
 *
 * @param severity `FATAL` or `ERROR`.
 * @param code The SQLSTATE, e.g. `28P01`.
 * @param message What went wrong.
 * @returns The `E` message.
 */
export function errorResponse(severity: string, code: string, message: string): Uint8Array {
  const field = (tag: string, value: string) => encoder.encode(`${tag}${value}\0`);
  return typed(
    "E",
    concat(
      field("S", severity),
      field("V", severity),
      field("C", code),
      field("M", message),
      new Uint8Array([0]),
    ),
  );
}

/**
 * Gives a client's named prepared statements and portals a prefix of their own, so that
 * clients sharing PGlite's one session (two JDBC connections both preparing `S_1`, or one
 * reconnecting) never meet each other's: Parse, Bind, Describe, Close and Execute carry
 * names; the unnamed ones (empty) stay as they are.
 *
 * @param message A typed message from the client.
 * @param prefix e.g. `w3_`.
 * @returns The message, rewritten when it names a statement or portal.
 */
export function prefixNames(message: Uint8Array, prefix: string): Uint8Array {
  const type = String.fromCharCode(message[0]);
  // How many names, and where the first starts (after the type, length and a kind byte).
  const layout: Record<string, [number, number]> = {
    P: [1, 5],
    B: [2, 5],
    E: [1, 5],
    D: [1, 6],
    C: [1, 6],
  };
  const shape = layout[type];
  if (!shape) return message;
  const [count, first] = shape;
  const added = encoder.encode(prefix);
  const parts: Uint8Array[] = [message.subarray(5, first)];
  let at = first;
  for (let i = 0; i < count; i++) {
    const end = message.indexOf(0, at);
    if (end < 0) return message;
    if (end > at) parts.push(added);
    parts.push(message.subarray(at, end + 1));
    at = end + 1;
  }
  parts.push(message.subarray(at));
  return typed(type, concat(...parts));
}
