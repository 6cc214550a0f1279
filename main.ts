/**
 * Starts Beacon from the configuration in `fresh.config.ts`, and stops it cleanly on
 * SIGINT or SIGTERM.
 */
import config from "./fresh.config.ts";
import { startBeacon } from "./server/start.ts";

if (import.meta.main) {
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
