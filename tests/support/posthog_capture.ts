/**
 * Helpers of the PostHog capture suites (routes/posthog/capture*_test.ts): bodies as the SDKs
 * encode them, and a client for one suite app.
 *
 * @module
 */
import type { SuiteApp } from "./app.ts";
import { TEST_INGEST_KEY } from "./app.ts";

/** Gzips text as posthog-js and posthog-node do. */
export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Base64 of the UTF-8 bytes of text (posthog-js's `compression=base64`). */
export function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** One event as posthog-js sends it, with a fresh uuid. */
export function jsEvent(name: string, distinctId: string, extra: Record<string, unknown> = {}) {
  return {
    uuid: crypto.randomUUID(),
    event: name,
    properties: { distinct_id: distinctId, token: TEST_INGEST_KEY, $lib: "web", ...extra },
    timestamp: new Date().toISOString(),
  };
}

/** A stored event as the capture suites read it back. */
export interface StoredRow {
  id: string;
  event_type: string;
  user_id: string | null;
  anonymous_id: string | null;
  payload: Record<string, unknown>;
  ts: string;
}

/**
 * Posts to a suite app and reads its events back.
 *
 * @param t The suite's app.
 * @returns `send(path, init)` (a POST unless init says otherwise) and `rows(where, params)`.
 */
export function captureClient(t: SuiteApp) {
  return {
    send(path: string, init: RequestInit = {}) {
      return t.app.request(path, { method: "POST", ...init });
    },
    async rows(where: string, params: unknown[] = []): Promise<StoredRow[]> {
      return await t.db.query<StoredRow>(
        `select id::text, event_type, user_id::text, anonymous_id, payload,
                to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts
           from public.events where ${where} order by seq`,
        params,
      );
    },
  };
}
