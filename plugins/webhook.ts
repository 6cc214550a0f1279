/**
 * The webhook plugin: POSTs each batch as JSON to a URL, signed with HMAC-SHA256 so the
 * receiver can check it came from Beacon.
 *
 * The body is `{ "events": [PluginEvent, ...] }`. The header
 * `Beacon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`
 * lets the receiver verify both the body and its freshness. Any 2xx answer is success;
 * anything else (or no answer within the timeout) makes the batch be sent again later. A 4xx
 * other than 408/429 is a refusal (`PluginError`, not retryable): the forwarder isolates the
 * event at fault and dead-letters it; a 429's or 503's `Retry-After` is honoured.
 *
 * @module
 */
import type { BeaconPlugin, PluginEvent } from "./mod.ts";
import { parseRetryAfter, PluginError } from "./failure.ts";

/** Options for {@linkcode webhook}. */
export interface WebhookPluginOptions {
  /** Where to POST. */
  url: string;
  /** The shared secret for the signature. */
  secret: string;
  /** Milliseconds before a request is abandoned. @default {10000} */
  timeoutMs?: number;
  /** The plugin's name, to have several webhooks. @default {"webhook"} */
  name?: string;
}

const encoder = new TextEncoder();

/**
 * Computes the `Beacon-Signature` header for a body.
 *
 * @param secret The shared secret.
 * @param body The exact body sent.
 * @param timestamp Unix seconds.
 * @returns `t=<timestamp>,v1=<hex>`.
 */
export async function signWebhook(
  secret: string,
  body: string,
  timestamp: number,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`${timestamp}.${body}`),
  );
  const hex = Array.from(
    new Uint8Array(mac),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return `t=${timestamp},v1=${hex}`;
}

/**
 * Describes the request a batch becomes (pure: no network).
 *
 * @param options The webhook's URL and secret.
 * @param events The batch.
 * @param now The current time in milliseconds.
 * @returns The URL, headers and body to send.
 */
export async function webhookRequest(
  options: Pick<WebhookPluginOptions, "url" | "secret">,
  events: PluginEvent[],
  now: number,
): Promise<{ url: string; headers: Record<string, string>; body: string }> {
  const body = JSON.stringify({ events });
  const timestamp = Math.floor(now / 1000);
  return {
    url: options.url,
    headers: {
      "content-type": "application/json",
      "beacon-signature": await signWebhook(options.secret, body, timestamp),
    },
    body,
  };
}

/**
 * Creates the webhook plugin.
 *
 * @param options Where to send and the secret to sign with.
 * @returns The plugin.
 *
 * @example
 * ```ts
 * defineConfig({ plugins: [webhook({ url: "https://example.com/hook", secret: "s3cret-s3cret-s3" })] });
 * ```
 */
export function webhook(options: WebhookPluginOptions): BeaconPlugin {
  return {
    name: options.name ?? "webhook",
    async onEvents(events) {
      const request = await webhookRequest(options, events, Date.now());
      const response = await fetch(request.url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.body?.cancel();
      if (!response.ok) {
        throw new PluginError(`webhook answered ${response.status} ${response.statusText}`, {
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
        });
      }
    },
  };
}
