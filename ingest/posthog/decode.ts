/**
 * Turning what a PostHog SDK sends into JSON text: every encoding posthog-js and
 * posthog-node use (gzip by `Content-Encoding`, by `compression=gzip-js` or by its magic
 * bytes; base64 in a form's `data=`; a form's plain `data=`; plain JSON; `data=` in the
 * query of a GET; LZ-String's base64 (`compression=lz64`) of older posthog-js, in a form's
 * `data=` or as the body), each within the body limit once decompressed.
 *
 * @module
 */
import { RequestError } from "../event.ts";
import { ApiError } from "../../http/errors.ts";
import { decompressFromBase64, Lz64TooLargeError } from "./lz64.ts";

/** What decoding needs to know about the request besides its body. */
export interface EncodedRequest {
  /** The body's bytes (empty for a GET). */
  body: Uint8Array;
  /** The `Content-Type` header, if any. */
  contentType?: string;
  /** The `Content-Encoding` header, if any. */
  contentEncoding?: string;
  /** The query string's parameters. */
  query: URLSearchParams;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new RequestError(400, "invalid_encoding", `${what} is not valid UTF-8`);
  }
}

/**
 * Gunzips within `maxBytes` of output (so a small bomb cannot fill the memory).
 *
 * @param bytes The gzip data.
 * @param maxBytes The largest output allowed.
 * @returns The decompressed bytes.
 * @throws {ApiError} 400 for data that is not gzip, 413 for too much output.
 */
export async function gunzip(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new RequestError(400, "invalid_gzip", "the body is not valid gzip data");
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function fromBase64(data: string): string {
  let binary: string;
  try {
    // Form encoding may have turned "+" into " ".
    binary = atob(data.replace(/ /g, "+").replace(/\s/g, ""));
  } catch {
    throw new RequestError(400, "invalid_base64", "data is not valid base64");
  }
  return text(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)), "the base64 data");
}

function isLz64(compression: string | null): boolean {
  return compression === "lz64" || compression === "lz-string";
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    "body_too_large",
    `the body is over ${maxBytes} bytes once decompressed`,
  );
}

/**
 * Decompresses LZ-String base64 within `maxBytes` of UTF-8 output.
 *
 * @param data The lz64 text.
 * @param maxBytes The largest output allowed.
 * @returns The decompressed text.
 * @throws {ApiError} 400 for text that is not lz64, 413 for too much output.
 */
export function fromLz64(data: string, maxBytes: number): string {
  let text: string;
  try {
    // A UTF-16 code unit is at least one UTF-8 byte: this bound stops a bomb early.
    text = decompressFromBase64(data, maxBytes);
  } catch (error) {
    if (error instanceof Lz64TooLargeError) throw tooLarge(maxBytes);
    throw new RequestError(
      400,
      "invalid_lz64",
      `data is not valid lz64 (LZString.compressToBase64): ${(error as Error).message}`,
    );
  }
  if (new TextEncoder().encode(text).length > maxBytes) throw tooLarge(maxBytes);
  return text;
}

/** Decodes the `data` field of a form or query, as the `compression` parameter says. */
function decodeData(data: string, compression: string | null, maxBytes: number): string {
  if (isLz64(compression)) return fromLz64(data, maxBytes);
  const trimmed = data.trimStart();
  if (compression === "base64" || !(trimmed.startsWith("{") || trimmed.startsWith("["))) {
    return fromBase64(data);
  }
  return data;
}

/**
 * Decodes a PostHog SDK request into JSON text.
 *
 * @param request The body, its headers and the query.
 * @param maxBytes The largest body allowed once decompressed.
 * @returns The JSON text (not yet parsed).
 * @throws {RequestError} 400 for an encoding that cannot be read, 413 for a body too large
 *   decompressed.
 */
export async function decodePostHogBody(
  request: EncodedRequest,
  maxBytes: number,
): Promise<string> {
  const { query } = request;
  let compression = query.get("compression")?.toLowerCase() ?? null;
  let bytes = request.body;
  const encoding = request.contentEncoding?.trim().toLowerCase();
  if (encoding === "gzip" || compression === "gzip" || compression === "gzip-js" || isGzip(bytes)) {
    if (bytes.length > 0) bytes = await gunzip(bytes, maxBytes);
  } else if (encoding && encoding !== "identity") {
    throw new RequestError(
      415,
      "unsupported_content_encoding",
      `Content-Encoding ${encoding} is not supported; send gzip or nothing`,
    );
  }
  if (bytes.length === 0) {
    const data = query.get("data");
    if (data === null) {
      throw new RequestError(400, "empty_body", "the request carries no events");
    }
    return decodeData(data, compression, maxBytes);
  }
  const body = text(bytes, "the body");
  const type = request.contentType?.toLowerCase() ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || /^data=/.test(body)) {
    const form = new URLSearchParams(body);
    const data = form.get("data");
    if (data === null) {
      throw new RequestError(400, "invalid_body", "a form body must carry the events in data=");
    }
    compression = form.get("compression")?.toLowerCase() ?? compression;
    return decodeData(data, compression, maxBytes);
  }
  if (isLz64(compression)) return fromLz64(body, maxBytes);
  if (compression === "base64") return fromBase64(body);
  return body;
}
