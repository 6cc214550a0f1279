/**
 * `POST /api/v1/events`: ingestion over HTTP, one event or `{ "batch": [...] }`.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../../server/app_env.ts";
import { checkEvents, RequestError, type Sender, storeEvents } from "../../server/ingest.ts";
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

async function readBody(request: Request, maxBytes: number): Promise<string> {
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
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new RequestError(
        413,
        "body_too_large",
        `the body is over ${maxBytes} bytes`,
      );
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new RequestError(
      400,
      "invalid_encoding",
      "the body is not valid UTF-8",
    );
  }
}

const events = new Hono<AppEnv>();

events.post("/", async (c) => {
  const { config, verifier, ingestKey, db, forwarder } = c.var.deps;
  try {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new RequestError(
        415,
        "unsupported_media_type",
        "send the body as application/json",
      );
    }

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
    if (bearer !== undefined && !sameSecret(bearer, ingestKey)) {
      try {
        const claims = await verifier.verify(bearer);
        sender = { kind: "user", userId: claims.sub };
      } catch (error) {
        if (error instanceof TokenError) {
          throw new RequestError(401, "invalid_token", error.message);
        }
        throw error;
      }
    } else if (bearer !== undefined || apikey !== undefined) {
      if (!sameSecret(bearer ?? apikey ?? "", ingestKey)) {
        throw new RequestError(
          401,
          "invalid_apikey",
          "the apikey is not this Beacon's ingest key",
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

    const text = await readBody(c.req.raw, config.limits.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new RequestError(
        400,
        "malformed_json",
        `the body is not valid JSON: ${(error as Error).message}`,
      );
    }
    const { events: good, rejected } = checkEvents(
      body,
      sender,
      config.limits,
      Date.now(),
    );
    const { accepted, duplicates } = await storeEvents(db, good);
    if (accepted > 0) forwarder?.wake();
    return c.json({ accepted, duplicates, rejected });
  } catch (error) {
    if (error instanceof RequestError) {
      return c.json(
        { error: error.code, message: error.message },
        error.status,
      );
    }
    throw error;
  }
});

export default events;
