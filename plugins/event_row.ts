/**
 * A row of `beacon.events_after` and what plugins receive for it.
 *
 * @module
 */
import type { PluginEvent } from "./mod.ts";

/** A row of `beacon.events_after`, as the drivers return it. */
export interface EventRow {
  id: string;
  txid: string;
  seq: string | number;
  event_type: string;
  user_id: string | null;
  anonymous_id: string | null;
  payload: Record<string, unknown> | string;
  timestamp: Date | string;
  received_at: Date | string;
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Turns a row of `beacon.events_after` into what plugins receive. */
export function toPluginEvent(row: EventRow): PluginEvent {
  return {
    id: row.id,
    event: row.event_type,
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    properties: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
    timestamp: iso(row.timestamp),
    receivedAt: iso(row.received_at),
  };
}
