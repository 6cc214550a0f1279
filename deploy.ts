/**
 * Beacon on Deno Deploy (`deployctl deploy --entrypoint=deploy.ts`): the same app as the
 * server, pages included, on the project's PostgreSQL (`DATABASE_URL`), with Supabase Auth
 * and no disk. `Deno.cron` runs a plugin drain every minute (the same code as
 * `POST /api/v1/plugins/drain`). Configured like the Supabase function
 * (`config/from_edge_env.ts`), without its path prefix.
 *
 * @module
 */
import { defineConfig } from "./config/mod.ts";
import { configFromEdgeEnv } from "./config/from_edge_env.ts";
import { createEdgeBeacon, type EdgeBeacon } from "./app/edge.ts";

const env = Deno.env.toObject();
let beacon: EdgeBeacon;
try {
  beacon = await createEdgeBeacon(defineConfig(configFromEdgeEnv(env, "deno-deploy")));
} catch (error) {
  console.error(`Beacon cannot start: ${error instanceof Error ? error.message : error}`);
  throw error;
}

type Cron = (name: string, schedule: string, run: () => Promise<void>) => Promise<void>;
const cron = (Deno as unknown as { cron?: Cron }).cron;
if (cron && env.BEACON_PLUGIN_DRAIN !== "false") {
  cron("beacon plugin drain", "* * * * *", async () => {
    await beacon.drain();
  });
}

Deno.serve({ port: Number(env.PORT ?? 8000) }, beacon.app.fetch);
