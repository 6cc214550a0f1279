/**
 * Beacon as a Supabase Edge Function (`supabase functions deploy beacon --no-verify-jwt`):
 * the same app as the server, under the function's path (`/beacon/...` as the gateway
 * hands requests over, `/functions/v1/beacon/...` in the browser). Configured by the
 * platform's environment and `supabase secrets set` (see `config/from_edge_env.ts`); the
 * island bundles are this folder's static files (`deno task build` puts them here). A
 * configuration only a server can serve (the embedded database, local accounts) stops it
 * with one line, "Beacon cannot start: ...".
 *
 * @module
 */
import { ConfigError, defineConfig } from "../../../config/mod.ts";
import { configFromEdgeEnv } from "../../../config/from_edge_env.ts";
import { createEdgeBeacon, type EdgeBeacon } from "../../../app/edge.ts";

const env = Deno.env.toObject();
let beacon: EdgeBeacon;
try {
  const input = configFromEdgeEnv(env, "supabase");
  input.islandsDir ??= new URL("./static/_islands", import.meta.url).pathname;
  beacon = await createEdgeBeacon(defineConfig(input));
} catch (error) {
  const reason = error instanceof ConfigError || error instanceof Error
    ? error.message
    : String(error);
  console.error(`Beacon cannot start: ${reason}`);
  throw error;
}

// The edge runtime picks its own port; PORT is for running this file locally.
Deno.serve({ port: Number(env.PORT ?? 8000) }, beacon.app.fetch);
