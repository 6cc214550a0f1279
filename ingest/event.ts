/**
 * What every step of ingestion shares: the shape of an event on its way in, why one is
 * refused, the error for a request refused as a whole, and the limits.
 *
 * @module
 */
import { ApiError } from "../http/errors.ts";

/** Who sent the request. */
export type Sender = { kind: "user"; userId: string } | { kind: "anonymous" };

/** An event that passed every check, ready to store. */
export interface CheckedEvent {
  /** Its place in the request. */
  index: number;
  id: string;
  eventType: string;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  /** ISO 8601, or null for "now". */
  timestamp: string | null;
}

/** Why one event was refused. */
export interface Rejection {
  /** Its place in the request (0 for a single event). */
  index: number;
  /** The field at fault. */
  field: string;
  /** What is wrong. */
  reason: string;
}

/** A problem with the request as a whole: answered with its status, `{"error", "message"}`. */
export class RequestError extends ApiError {
  /**
   * @param status The HTTP status to answer with.
   * @param code A short machine-readable code.
   * @param message What is wrong, for a person.
   * @param retryAfterSeconds For 429 and 503: when to try again, in seconds.
   */
  constructor(
    status: 400 | 401 | 408 | 413 | 415 | 429 | 503,
    code: string,
    message: string,
    retryAfterSeconds?: number,
  ) {
    super(status, code, message, { retryAfterSeconds });
    this.name = "RequestError";
  }
}

/** Limits the checks apply. */
export interface CheckLimits {
  maxBatchEvents: number;
  maxPropertiesBytes: number;
}

/** How deep `properties` may nest: the object itself is level 1, `{"a": {}}` is 2. */
export const MAX_PROPERTIES_DEPTH = 64;

/**
 * The largest `payload` the events table stores, as `pg_column_size` measures it: the
 * check constraint of `public.events` (migration 20261126000300_events.sql).
 */
export const MAX_STORED_PAYLOAD_BYTES = 65_536;
