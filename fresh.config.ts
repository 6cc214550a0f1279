/**
 * Beacon's configuration. Edit it here, or set the environment variables it reads
 * (see README.md).
 */
import { defineConfig } from "./config/mod.ts";
import { configFromEnv } from "./config/from_env.ts";

export default defineConfig({
  ...configFromEnv(Deno.env.toObject()),
});
