/**
 * `POST /api/v1/events`: ingestion over HTTP, one event or `{ "batch": [...] }`. Refusals
 * are thrown ({@linkcode RequestError}, {@linkcode TokenError}, the body reader's
 * `ApiError`s) and answered by the app's `onError`.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../_deps.ts";
import { RequestError, type Sender } from "../../ingest/event.ts";
import { parseBody } from "../../ingest/json.ts";
import { checkEvents } from "../../ingest/check.ts";
import { requestAddress } from "../_viewer.ts";
import { readBodyInTurn } from "../../http/body.ts";
import { TokenError } from "../../auth/tokens.ts";

function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

/** Whether a bearer credential is shaped like a JWT (three base64url parts). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

const events = new Hono<AppEnv>();

events.post("/", async (c) => {
  const { config, verifier, ingestKey, storeEvents, forwarder, ingestKeyFailures } = c.var.deps;
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
  const address = requestAddress(c);
  const wait = ingestKeyFailures.retryAfterMs(address);
  const locked = () =>
    new RequestError(
      429,
      "too_many_failures",
      `too many failed credentials from this address; try again in ${Math.ceil(wait / 1000)} s`,
      Math.ceil(wait / 1000),
    );
  const failed = (error: RequestError | TokenError) => {
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
      if (!(error instanceof TokenError)) throw error;
      if (wait > 0) throw locked();
      throw failed(error);
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

  const body = parseBody(await readBodyInTurn(c.var.deps, c.req.raw, config.limits));
  const { events: good, rejected } = checkEvents(
    body,
    sender,
    config.limits,
    Date.now(),
  );
  const stored = await storeEvents(good);
  if (stored.accepted > 0) forwarder?.wake();
  rejected.push(...stored.rejected);
  rejected.sort((a, b) => a.index - b.index);
  return c.json({ accepted: stored.accepted, duplicates: stored.duplicates, rejected });
});

export default events;
