/**
 * PostHog's capture endpoints (`/e/`, `/i/v0/e/`, `/batch/`, `/capture/`, `/track/`): what
 * posthog-js and posthog-node send, in every encoding they use, stored as Beacon events
 * through the same checks and the same store as `POST /api/v1/events`. The project key is
 * Beacon's ingest key, or the configured `posthogProjectKey` (accepted here only). Per-event refusals are listed and never fail the batch; the answer
 * (`{"status": 1, ...}`, as PostHog's) goes out once the events are committed.
 *
 * @module
 */
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { RequestError } from "../../ingest/event.ts";
import type { ApiErrorBody } from "../../http/errors.ts";
import { parseBody } from "../../ingest/json.ts";
import { readBodyBytesInTurn } from "../../http/body.ts";
import { requestAddress } from "../_viewer.ts";
import { decodePostHogBody } from "../../ingest/posthog/decode.ts";
import { candidateUserIds, mapPostHogEvents, unpackPostHogBody } from "../../ingest/posthog/map.ts";
import { applyPersonProperties, knownUserIds } from "../../ingest/posthog/persons.ts";

/** The paths PostHog SDKs (current and older) send events to. */
export const CAPTURE_PATHS = [
  "/e",
  "/e/",
  "/i/v0/e",
  "/i/v0/e/",
  "/batch",
  "/batch/",
  "/capture",
  "/capture/",
  "/track",
  "/track/",
];

/**
 * A wrong project key, answered as Beacon's errors are (`error`, `message`) and with the
 * fields PostHog's capture answers it with (`type`, `code`, `detail`, `attr`), so either
 * reader understands it.
 */
export class InvalidProjectKeyError extends RequestError {
  constructor() {
    super(
      401,
      "invalid_apikey",
      "the project key is neither this Beacon's ingest key nor its configured PostHog project key",
    );
    this.name = "InvalidProjectKeyError";
  }

  /** Beacon's body plus PostHog's `authentication_error` fields. */
  override toJSON(): ApiErrorBody & {
    type: string;
    code: string;
    detail: string;
    attr: null;
  } {
    return {
      ...super.toJSON(),
      type: "authentication_error",
      code: "invalid_api_key",
      detail:
        "Project API key invalid. You can find your project API key in PostHog project settings.",
      attr: null,
    };
  }
}

/** Compares two secrets in time that does not depend on where they differ. */
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
 * Handles one capture request (GET with `data=` or POST).
 *
 * @param c The request's context.
 * @returns `{"status": 1, "accepted", "duplicates", "rejected"}` once committed.
 */
export async function capture(c: Context<AppEnv>): Promise<Response> {
  // storeEvents: the group commit every ingestion endpoint shares (ingest/group_commit.ts).
  const { config, db, ingestKey, ingestKeyFailures, forwarder, storeEvents } = c.var.deps;
  const now = Date.now();
  const query = new URL(c.req.url).searchParams;
  const address = requestAddress(c);
  const wait = ingestKeyFailures.retryAfterMs(address);
  if (wait > 0) {
    throw new RequestError(
      429,
      "too_many_failures",
      `too many failed credentials from this address; try again in ${Math.ceil(wait / 1000)} s`,
      Math.ceil(wait / 1000),
    );
  }
  const body = c.req.method === "GET"
    ? new Uint8Array(0)
    : await readBodyBytesInTurn(c.var.deps, c.req.raw, config.limits);
  const text = await decodePostHogBody({
    body,
    contentType: c.req.header("content-type"),
    contentEncoding: c.req.header("content-encoding"),
    query,
  }, config.limits.maxBodyBytes);
  const batch = unpackPostHogBody(parseBody(text), query, config.limits.maxBatchEvents);
  if (batch.token === null) {
    throw new RequestError(
      401,
      "missing_credentials",
      "send the project key (this Beacon's ingest key, or its PostHog project key) as api_key, or as token in each event's properties",
    );
  }
  // Both comparisons always run, so the time taken does not tell which key came close.
  const isIngestKey = sameSecret(batch.token, ingestKey);
  const isProjectKey = sameSecret(batch.token, config.posthogProjectKey ?? "") &&
    config.posthogProjectKey !== undefined;
  if (!isIngestKey && !isProjectKey) {
    ingestKeyFailures.fail(address);
    throw new InvalidProjectKeyError();
  }
  const users = await knownUserIds(db, candidateUserIds(batch.items));
  const { events, rejected, persons } = mapPostHogEvents(batch, {
    users,
    limits: config.limits,
    now,
  });
  const stored = await storeEvents(events);
  if (stored.accepted > 0) forwarder?.wake();
  const refused = new Set(stored.rejected.map((r) => r.index));
  await applyPersonProperties(db, persons.filter((p) => !refused.has(p.index)));
  rejected.push(...stored.rejected);
  rejected.sort((a, b) => a.index - b.index);
  return c.json({
    status: 1,
    accepted: stored.accepted,
    duplicates: stored.duplicates,
    rejected,
  });
}
