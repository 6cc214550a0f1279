/**
 * Turning what a PostHog SDK sends into JSON text: every encoding posthog-js and
 * posthog-node use (gzip by `Content-Encoding`, by `compression=gzip-js` or by its magic
 * bytes; base64 in a form's `data=`; a form's plain `data=`; plain JSON; `data=` in the
 * query of a GET), each within the body limit once decompressed.
 *
 * @module
 */
import { RequestError } from "../event.ts";
import { ApiError } from "../../http/errors.ts";

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
        throw new ApiError(
          413,
          "body_too_large",
          `the body is over ${maxBytes} bytes once decompressed`,
        );
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

/** Decodes the `data` field of a form or query, as the `compression` parameter says. */
function decodeData(data: string, compression: string | null): string {
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
 * @throws {RequestError} 400 for an encoding that cannot be read or an unsupported
 *   compression (lz64, which no current SDK sends), 413 for a body too large decompressed.
 */
export async function decodePostHogBody(
  request: EncodedRequest,
  maxBytes: number,
): Promise<string> {
  const { query } = request;
  let compression = query.get("compression")?.toLowerCase() ?? null;
  if (compression === "lz64" || compression === "lz-string") {
    throw new RequestError(
      400,
      "unsupported_compression",
      "compression=lz64 is not supported; send gzip-js, base64 or plain JSON (current SDKs do)",
    );
  }
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
    return decodeData(data, compression);
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
    return decodeData(data, compression);
  }
  if (compression === "base64") return fromBase64(body);
  return body;
}
