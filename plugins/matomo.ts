/**
 * The Matomo plugin: forwards each batch as one request to Matomo's bulk tracking API,
 * `POST <url>/matomo.php` with `{"requests": ["?idsite=..&rec=1&..", ...], "token_auth": ..}`.
 *
 * What an event becomes (every request has `idsite`, `rec=1`, `apiv=1`, `cdt`, `_id`):
 *
 * - **Page views**: event types `$pageview`, `page_view`, `pageview`, `$screen`, `screen_view`
 *   (option `pageViewTypes`). `url` from the payload's `url`, `$current_url` or `path`
 *   (a path is resolved against the option `siteUrl` when given); `action_name` from `title`,
 *   `$title` or `$screen_name`, else the URL's path.
 * - **Other events**, as Matomo events with `ca=1`: `e_c` from `category` or `event_category`,
 *   else the event type's prefix before its first `.`, `:` or `_` (`checkout.completed` →
 *   `checkout`), else `beacon`; `e_a` from `action` or `event_action`, else the event type;
 *   `e_n` from `name`, `event_name` or `label` when present; `e_v` from `value` or `event_value`
 *   when numeric. A page URL in the payload (`url`, `$current_url`) goes along as `url`.
 * - **Who**: `uid` is the user id; `_id` is the first 16 hex digits of SHA-1 of the user id,
 *   else of the anonymous id (else of the event id). SHA-1 is how Matomo itself turns a `uid`
 *   into a visitor id, so a user's visits keep one visitor id either way. Anonymous events
 *   also carry `cid` (the same id): Beacon's requests all come from one address and user
 *   agent, and without a forced visitor id Matomo would merge anonymous visitors by that.
 * - **When**: `cdt` is the event's own time (Unix seconds). Matomo requires `token_auth` for a
 *   time more than a day old, which a backlog after an outage always has: the token is
 *   required. It travels in the body only, never in the request strings.
 *
 * Answers: Matomo says `{"status": "success", "tracked": n, "invalid": m}` (with
 * `invalid_indices` when the token is a superuser's). Any other answer (a non-2xx status, a
 * body that is not that JSON, no answer within the timeout) throws, so the forwarder sends the
 * batch again later; Matomo runs a bulk request in one database transaction
 * (`bulk_requests_use_transaction`, on by default), so a failed one tracked nothing. A batch
 * Matomo refuses entirely as invalid also throws (nothing was tracked, so a retry counts
 * nothing twice), as a refusal (`retryable` false): the forwarder then isolates the event at
 * fault and dead-letters it after a few attempts. When only some requests are invalid (a bad
 * parameter), the others are tracked and must not be sent again (they would count twice):
 * with `invalid_indices` (a superuser's token) the invalid events are handed back as
 * `refused`, so the forwarder retries them alone and then dead-letters them; without it they
 * are only logged (Matomo does not say which they were).
 *
 * @module
 */
import type { BeaconPlugin, PluginEvent } from "./mod.ts";
import type { Logger } from "../log/mod.ts";
import { parseRetryAfter } from "./failure.ts";
import { type MatomoMappingOptions, toMatomoRequest } from "./matomo_request.ts";

/** Options for {@linkcode matomo}: the site and page view types as in {@linkcode MatomoMappingOptions}. */
export interface MatomoPluginOptions extends MatomoMappingOptions {
  /** Matomo's address, e.g. `https://matomo.example.com` (or its `.../matomo.php`). */
  url: string;
  /** A token of a user with write access to the site: needed for `cdt` older than a day. */
  tokenAuth: string;
  /** Milliseconds before a request is abandoned. @default {10000} */
  timeoutMs?: number;
  /** The plugin's name, to have several Matomo sites. @default {"matomo"} */
  name?: string;
}

/** A failed delivery: `retryable` is false for answers a retry cannot change (a 4xx other than 408/429). */
export class MatomoError extends Error {
  /** The HTTP status, when Matomo answered. */
  readonly status?: number;
  /** Whether sending the same batch again may work. */
  readonly retryable: boolean;
  /** The wait Matomo asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;

  /**
   * @param message What went wrong.
   * @param status The HTTP status, if there was an answer.
   * @param retryable Whether a retry may work. @default {true unless status is a 4xx other than 408 and 429}
   */
  constructor(message: string, status?: number, retryable?: boolean) {
    super(message);
    this.name = "MatomoError";
    this.status = status;
    this.retryable = retryable ??
      (status === undefined || status < 400 || status >= 500 || status === 408 || status === 429);
  }
}

/**
 * Where the bulk request goes: `<url>/matomo.php`, unless the URL already names the
 * tracker file.
 *
 * @param url Matomo's address.
 * @returns The tracking endpoint.
 */
export function trackerEndpoint(url: string): string {
  const base = url.replace(/\/+$/, "");
  return /\/(matomo|piwik)\.php$/.test(base) ? base : `${base}/matomo.php`;
}

/**
 * Describes the bulk request a batch becomes (pure: no network).
 *
 * @param options Where Matomo is, the site and the token.
 * @param events The batch, oldest first (Matomo wants them in time order).
 * @returns The URL, headers and JSON body to POST.
 */
export async function matomoBulkRequest(
  options: MatomoPluginOptions,
  events: PluginEvent[],
): Promise<{ url: string; headers: Record<string, string>; body: string }> {
  const requests = await Promise.all(events.map((event) => toMatomoRequest(event, options)));
  return {
    url: trackerEndpoint(options.url),
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ requests, token_auth: options.tokenAuth }),
  };
}

/** What Matomo's answer says, once it is known to be a success. */
export interface BulkOutcome {
  /** Requests Matomo tracked. */
  tracked: number;
  /** Requests it refused as invalid. */
  invalid: number;
  /** The events it refused, when it said which (superuser tokens only). */
  invalidIds: string[];
}

/**
 * Reads Matomo's answer to a bulk request; throws {@linkcode MatomoError} unless it is a
 * success.
 *
 * @param status The HTTP status.
 * @param body The answer's text.
 * @param events The batch that was sent.
 * @returns How many were tracked and which were refused.
 */
export function readBulkAnswer(status: number, body: string, events: PluginEvent[]): BulkOutcome {
  const brief = body.slice(0, 200).replace(/\s+/g, " ");
  if (status < 200 || status >= 300) {
    throw new MatomoError(`Matomo answered ${status}: ${brief}`, status);
  }
  let answer: { status?: unknown; tracked?: unknown; invalid?: unknown; invalid_indices?: unknown };
  try {
    answer = JSON.parse(body);
  } catch {
    answer = {};
  }
  if (answer?.status !== "success" || typeof answer.tracked !== "number") {
    throw new MatomoError(
      `Matomo did not answer as its bulk tracking API does (is the URL right?): ${status} ${brief}`,
    );
  }
  const invalid = typeof answer.invalid === "number" ? answer.invalid : 0;
  if (answer.tracked === 0 && invalid > 0 && invalid >= events.length) {
    throw new MatomoError(
      `Matomo refused all ${invalid} events of the batch as invalid (check the site id and the token)`,
      status,
      false,
    );
  }
  const indices = Array.isArray(answer.invalid_indices) ? answer.invalid_indices : [];
  return {
    tracked: answer.tracked,
    invalid,
    invalidIds: indices.flatMap((i) => (typeof i === "number" && events[i] ? [events[i].id] : [])),
  };
}

/**
 * Creates the Matomo plugin.
 *
 * @param options Where Matomo is, the site, the token.
 * @returns The plugin.
 *
 * @example
 * ```ts
 * defineConfig({
 *   plugins: [matomo({ url: "https://matomo.example.com", siteId: 1, tokenAuth: "0123abcd..." })],
 * });
 * ```
 */
export function matomo(options: MatomoPluginOptions): BeaconPlugin {
  let log: Logger | undefined;
  return {
    name: options.name ?? "matomo",
    setup(context) {
      log = context.log;
    },
    async onEvents(events) {
      const request = await matomoBulkRequest(options, events);
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: "POST",
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MatomoError(`Matomo could not be reached: ${reason}`);
      }
      const text = await response.text();
      let outcome: BulkOutcome;
      try {
        outcome = readBulkAnswer(response.status, text, events);
      } catch (error) {
        if (error instanceof MatomoError) {
          error.retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        }
        throw error;
      }
      if (outcome.invalid > 0) {
        log?.warn("Matomo refused events as invalid", {
          invalid: outcome.invalid,
          event_ids: outcome.invalidIds,
        });
      }
      if (outcome.tracked + outcome.invalid < events.length) {
        log?.warn("Matomo tracked fewer events than it was sent", {
          sent: events.length,
          tracked: outcome.tracked,
          invalid: outcome.invalid,
        });
      }
      if (outcome.invalidIds.length === 0) return;
      const reason = `Matomo refused the event as invalid (${outcome.invalid} of ${events.length})`;
      return { refused: outcome.invalidIds.map((id) => ({ id, error: reason })) };
    },
  };
}
