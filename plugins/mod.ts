/**
 * The plugin interface. A plugin receives every stored event, in order, at least once:
 * Beacon's forwarder (`plugins/forwarder.ts`) keeps a cursor per plugin in the database
 * and hands it batches; a plugin that throws gets the same batch again later, with
 * exponential backoff, while other plugins and ingestion carry on.
 *
 * Plugins are listed in `fresh.config.ts`:
 *
 * ```ts
 * import { defineConfig } from "./config/mod.ts";
 * import { posthog } from "./plugins/posthog.ts";
 *
 * export default defineConfig({
 *   plugins: [posthog({ apiKey: "phc_...", host: "https://eu.i.posthog.com" })],
 * });
 * ```
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** An event as plugins receive it. */
export interface PluginEvent {
  /** The event's id (its idempotency key): pass it on so the receiver can deduplicate. */
  id: string;
  /** The event type, e.g. `page_view`. */
  event: string;
  /** The signed-in user's id, or null. */
  userId: string | null;
  /** The anonymous visitor's id, or null. */
  anonymousId: string | null;
  /** The event's properties. */
  properties: Record<string, unknown>;
  /** When it happened, ISO 8601 in UTC. */
  timestamp: string;
  /** When Beacon stored it, ISO 8601 in UTC. */
  receivedAt: string;
}

/** What a plugin may resolve with: the events the destination refused, the rest taken. */
export interface DeliveryResult {
  /** Refused events (ids of the batch) and why; they are retried alone, then dead-lettered. */
  refused?: Array<{ id: string; error: string }>;
}

/** What a plugin is given at setup. */
export interface PluginContext {
  /** A logger whose lines carry the plugin's name. */
  log: Logger;
}

/** A plugin. */
export interface BeaconPlugin {
  /** A snake_case name, unique among the configured plugins; it keys the cursor. */
  readonly name: string;
  /** Called once before the first batch. */
  setup?(context: PluginContext): Promise<void> | void;
  /**
   * Delivers a batch. Resolve when the events are safely handed over; throw to have the
   * same batch delivered again later (see `plugins/failure.ts`: a `PluginError` that is not
   * retryable makes the forwarder isolate the event at fault and dead-letter it). Resolve
   * with `{ refused }` when the destination took the batch but refused some events and
   * said which: only those are retried, alone, then dead-lettered.
   */
  onEvents(events: PluginEvent[]): Promise<void | DeliveryResult>;
  /** Called once at shutdown, after the last batch: flush and release resources. */
  shutdown?(): Promise<void> | void;
}
