/**
 * Beacon's configuration. Edit it here, or set the environment variables it reads
 * (see README.md).
 */
import { configFromEnv, defineConfig } from "./server/config.ts";

export default defineConfig({
  ...configFromEnv(Deno.env.toObject()),
});
