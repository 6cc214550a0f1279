/**
 * Starts Beacon from the configuration in `fresh.config.ts`, and stops it cleanly on
 * SIGINT or SIGTERM.
 */
import { ConfigError } from "./server/config.ts";
import { startBeacon } from "./server/start.ts";

if (import.meta.main) {
  let config;
  try {
    config = (await import("./fresh.config.ts")).default;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Beacon cannot start: ${error.message}`);
    Deno.exit(1);
  }
  const beacon = await startBeacon(config);
  const stop = () => {
    beacon.shutdown().then(() => Deno.exit(0), (error) => {
      console.error(error);
      Deno.exit(1);
    });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
