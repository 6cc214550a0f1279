/**
 * What a plugin's failure means for delivery: try again later (retryable) or never going to
 * work for these events (permanent).
 *
 * - **Retryable**: no answer (network error, timeout), a 5xx, 408 and 429. The forwarder
 *   waits its backoff, or the destination's `Retry-After` when that is longer. So are 401
 *   and 403: the destination refuses Beacon's credentials, not the event, and moving every
 *   event aside until someone fixes a key would empty the stream into the dead letters. The
 *   cursor holds and health shows the error until the key is fixed.
 * - **Permanent**: any other 4xx (the destination refused what it was sent), or an error
 *   that says `retryable: false`. The forwarder retries the events a bounded number of
 *   times, isolating the one at fault, then dead-letters it (`plugins/dead_letters.ts`).
 *
 * A plugin says so by throwing {@linkcode PluginError}, or any error carrying `status`
 * (a number), `retryable` (a boolean), `retryAfterMs` and `eventIds` as it does (posthog-node's
 * `PostHogFetchHttpError` and the Matomo plugin's `MatomoError` do). Anything else is retryable,
 * as every failure was before.
 *
 * @module
 */

/** Options for {@linkcode PluginError}. */
export interface PluginErrorOptions {
  /** The destination's HTTP status, when it answered. */
  status?: number;
  /** Whether sending again may work. @default {decided by `status`; true without one} */
  retryable?: boolean;
  /** How long the destination asked to wait (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The events the destination named as refused, when it said which. */
  eventIds?: string[];
}

/**
 * Whether an HTTP status is worth retrying: no status, 401 and 403 (credentials, not the
 * event), 408, 429, and anything but a 4xx.
 */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status < 400 || status >= 500 || status === 408 ||
    status === 429 || status === 401 || status === 403;
}

/** A delivery failure that says whether a retry can help. */
export class PluginError extends Error {
  /** The HTTP status, when the destination answered. */
  readonly status?: number;
  /** Whether sending the same events again may work. */
  readonly retryable: boolean;
  /** The wait the destination asked for, in milliseconds. */
  readonly retryAfterMs?: number;
  /** The events the destination refused, when it said which. */
  readonly eventIds?: string[];

  /**
   * @param message What went wrong.
   * @param options Status, retryability, `Retry-After` and the refused events.
   */
  constructor(message: string, options: PluginErrorOptions = {}) {
    super(message);
    this.name = "PluginError";
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
    this.retryAfterMs = options.retryAfterMs;
    this.eventIds = options.eventIds;
  }
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date.
 *
 * @param value The header, or null.
 * @param now The current time in milliseconds.
 * @returns The wait in milliseconds (never negative), or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A failure, classified. */
export interface Failure {
  /** Whether a later retry of the same events may work. */
  retryable: boolean;
  /** The wait the destination asked for, in milliseconds. */
  retryAfterMs?: number;
  /** The events the destination named as refused. */
  eventIds?: string[];
  /** The error's message. */
  message: string;
}

/**
 * Classifies what a plugin threw.
 *
 * @param error The error.
 * @returns Whether it is retryable, the requested wait and the refused events.
 */
export function classifyFailure(error: unknown): Failure {
  const message = error instanceof Error ? error.message : String(error);
  if (typeof error !== "object" || error === null) return { retryable: true, message };
  const e = error as {
    status?: unknown;
    retryable?: unknown;
    retryAfterMs?: unknown;
    eventIds?: unknown;
  };
  let status: number | undefined;
  try {
    status = typeof e.status === "number" ? e.status : undefined;
  } catch {
    status = undefined;
  }
  let retryAfterMs: number | undefined;
  try {
    retryAfterMs = typeof e.retryAfterMs === "number" && e.retryAfterMs >= 0
      ? e.retryAfterMs
      : undefined;
  } catch {
    retryAfterMs = undefined;
  }
  const retryable = typeof e.retryable === "boolean" ? e.retryable : isRetryableStatus(status);
  const eventIds = Array.isArray(e.eventIds) && e.eventIds.length > 0
    ? e.eventIds.filter((id): id is string => typeof id === "string")
    : undefined;
  return {
    retryable,
    message,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(eventIds ? { eventIds } : {}),
  };
}
