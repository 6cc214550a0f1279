/**
 * The PostHog plugin: forwards events with posthog-node. Each event keeps its id as
 * PostHog's `uuid`, so PostHog drops the copies a retry may send.
 *
 * @module
 */
import { PostHog } from "posthog-node";
import type { BeaconPlugin, PluginEvent } from "./mod.ts";

/** Options for {@linkcode posthog}. */
export interface PostHogPluginOptions {
  /** The project API key (`phc_...`). */
  apiKey: string;
  /** PostHog's address. @default {"https://us.i.posthog.com"} */
  host?: string;
  /** HTTP attempts per flush before the batch is handed back for a later retry. @default {2} */
  fetchRetryCount?: number;
  /** Milliseconds between those attempts. @default {1000} */
  fetchRetryDelay?: number;
  /** Milliseconds before a request is abandoned. @default {10000} */
  requestTimeout?: number;
}

/** posthog-node with a flush that first waits for the captures still being prepared. */
class BatchingPostHog extends PostHog {
  flushEverything(): Promise<void> {
    return this.flushWithPendingPromises();
  }
}

/**
 * The PostHog event a Beacon event becomes: `distinctId` is the user id, else the
 * anonymous id; event, properties, timestamp and uuid pass through.
 *
 * @param event A Beacon event.
 * @returns The arguments of posthog-node's `capture`.
 */
export function toPostHogCapture(event: PluginEvent): {
  distinctId: string;
  event: string;
  properties: Record<string, unknown>;
  timestamp: Date;
  uuid: string;
} {
  return {
    distinctId: event.userId ?? event.anonymousId ?? event.id,
    event: event.event,
    properties: event.properties,
    timestamp: new Date(event.timestamp),
    uuid: event.id,
  };
}

/**
 * Creates the PostHog plugin.
 *
 * @param options The project key and where PostHog is.
 * @returns The plugin, named `posthog`.
 *
 * @example
 * ```ts
 * defineConfig({ plugins: [posthog({ apiKey: "phc_123", host: "https://eu.i.posthog.com" })] });
 * ```
 */
export function posthog(options: PostHogPluginOptions): BeaconPlugin {
  const makeClient = () =>
    new BatchingPostHog(options.apiKey, {
      host: options.host ?? "https://us.i.posthog.com",
      flushAt: 100_000,
      flushInterval: 0,
      maxBatchSize: 100,
      maxQueueSize: 200_000,
      fetchRetryCount: options.fetchRetryCount ?? 2,
      fetchRetryDelay: options.fetchRetryDelay ?? 1000,
      requestTimeout: options.requestTimeout ?? 10_000,
      disableGeoip: true,
    });
  let client: BatchingPostHog | undefined;
  return {
    name: "posthog",
    setup() {
      client = makeClient();
    },
    async onEvents(events) {
      client ??= makeClient();
      for (const event of events) client.capture(toPostHogCapture(event));
      try {
        await client.flushEverything();
      } catch (error) {
        // What posthog-node kept queued would be sent again on top of our retry: start
        // afresh so the retry is the only copy.
        client = makeClient();
        throw error;
      }
    },
    async shutdown() {
      await client?.shutdown();
      client = undefined;
    },
  };
}
