/**
 * The address of the client a request came from.
 *
 * @module
 */
import type { Context } from "hono";
import type { AppEnv } from "./app_env.ts";

/**
 * The client's address: the peer of the connection as `Deno.serve` reports it, or
 * `"unknown"` (e.g. under `app.request` in tests).
 *
 * @param c The request's context.
 * @returns The address, e.g. `203.0.113.7`.
 */
export function clientAddress(c: Context<AppEnv>): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}
