/**
 * `POST /api/v1/events`: ingestion over HTTP, one event or `{ "batch": [...] }`.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../server/app_env.ts";
import {
  checkEvents,
  parseBody,
  RequestError,
  type Sender,
  storeEvents,
} from "../../server/ingest.ts";
import { clientAddress } from "../../server/client_address.ts";
import { TokenError } from "../../server/auth.ts";

function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

/**
 * Reads the body into one buffer that grows up to `maxBytes`, copying each chunk and
 * keeping none (each chunk of a trickled body can be a view on a buffer of its own of
 * 64 KiB), within `timeoutMs` for the whole body.
 */
async function readBody(
  request: Request,
  limits: { maxBodyBytes: number; bodyTimeoutMs: number },
): Promise<string> {
  const maxBytes = limits.maxBodyBytes;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new RequestError(
      413,
      "body_too_large",
      `the body is ${declared} bytes; at most ${maxBytes} are allowed`,
    );
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  let buffer = new Uint8Array(Math.min(maxBytes, 16 * 1024));
  let size = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, limits.bodyTimeoutMs);
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        throw new RequestError(400, "incomplete_body", "the body was cut off");
      }
      if (timedOut) {
        throw new RequestError(
          408,
          "body_timeout",
          `the body did not arrive within ${limits.bodyTimeoutMs / 1000} s`,
        );
      }
      const { done, value } = chunk;
      if (done) break;
      if (size + value.length > maxBytes) {
        await reader.cancel();
        throw new RequestError(
          413,
          "body_too_large",
          `the body is over ${maxBytes} bytes`,
        );
      }
      if (size + value.length > buffer.length) {
        const grown = new Uint8Array(
          Math.min(maxBytes, Math.max(size + value.length, buffer.length * 2)),
        );
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.length;
    }
  } finally {
    clearTimeout(timer);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer.subarray(0, size));
  } catch {
    throw new RequestError(
      400,
      "invalid_encoding",
      "the body is not valid UTF-8",
    );
  }
}

/** Bodies being read per app, against `limits.maxBodiesInFlight`. */
const bodiesInFlight = new WeakMap<AppDeps, number>();

/** Reads the body when fewer than `maxBodiesInFlight` are being read, else 503. */
async function readBodyInTurn(deps: AppDeps, request: Request): Promise<string> {
  const reading = bodiesInFlight.get(deps) ?? 0;
  if (reading >= deps.config.limits.maxBodiesInFlight) {
    throw new RequestError(
      503,
      "busy",
      "too many requests are sending their bodies right now; try again in a second",
      1,
    );
  }
  bodiesInFlight.set(deps, reading + 1);
  try {
    return await readBody(request, deps.config.limits);
  } finally {
    bodiesInFlight.set(deps, (bodiesInFlight.get(deps) ?? 1) - 1);
  }
}

/** Whether a bearer credential is shaped like a JWT (three base64url parts). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

const events = new Hono<AppEnv>();

events.post("/", async (c) => {
  const { config, verifier, ingestKey, db, forwarder, ingestKeyFailures } = c.var.deps;
  try {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new RequestError(
        415,
        "unsupported_media_type",
        "send the body as application/json",
      );
    }

    // Failed credentials are counted per address, and once over the limit only a valid
    // access token gets through: no comparison with the ingest key is made at all.
    const address = clientAddress(c);
    const wait = ingestKeyFailures.retryAfterMs(address);
    const locked = () =>
      new RequestError(
        429,
        "too_many_failures",
        `too many failed credentials from this address; try again in ${Math.ceil(wait / 1000)} s`,
        Math.ceil(wait / 1000),
      );
    const failed = (error: RequestError) => {
      ingestKeyFailures.fail(address);
      return error;
    };
    let sender: Sender;
    const authorization = c.req.header("authorization");
    const apikey = c.req.header("apikey");
    const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (authorization !== undefined && bearer === undefined) {
      throw new RequestError(
        401,
        "invalid_authorization",
        'Authorization must be "Bearer <token>"',
      );
    }
    if (bearer !== undefined && (wait > 0 || !sameSecret(bearer, ingestKey))) {
      if (!JWT_SHAPE.test(bearer)) {
        if (wait > 0) throw locked();
        throw failed(
          new RequestError(
            401,
            "invalid_token",
            "the bearer is neither an access token nor the ingest key",
          ),
        );
      }
      try {
        const claims = await verifier.verify(bearer);
        sender = { kind: "user", userId: claims.sub };
      } catch (error) {
        if (error instanceof TokenError) {
          if (wait > 0) throw locked();
          throw failed(new RequestError(401, "invalid_token", error.message));
        }
        throw error;
      }
    } else if (bearer !== undefined || apikey !== undefined) {
      if (wait > 0) throw locked();
      if (!sameSecret(bearer ?? apikey ?? "", ingestKey)) {
        throw failed(
          new RequestError(
            401,
            "invalid_apikey",
            "the apikey is not this Beacon's ingest key",
          ),
        );
      }
      sender = { kind: "anonymous" };
    } else {
      throw new RequestError(
        401,
        "missing_credentials",
        "send a signed-in user's access token (Authorization: Bearer <token>) or the ingest key (apikey: <key>)",
      );
    }

    const body = parseBody(await readBodyInTurn(c.var.deps, c.req.raw));
    const { events: good, rejected } = checkEvents(
      body,
      sender,
      config.limits,
      Date.now(),
    );
    const stored = await storeEvents(db, good);
    if (stored.accepted > 0) forwarder?.wake();
    rejected.push(...stored.rejected);
    rejected.sort((a, b) => a.index - b.index);
    return c.json({ accepted: stored.accepted, duplicates: stored.duplicates, rejected });
  } catch (error) {
    if (error instanceof RequestError) {
      if (error.retryAfterSeconds !== undefined) {
        c.header("retry-after", String(error.retryAfterSeconds));
      }
      return c.json(
        { error: error.code, message: error.message },
        error.status,
      );
    }
    throw error;
  }
});

export default events;
