/**
 * Starts Beacon from the configuration in `fresh.config.ts`, and stops it cleanly on
 * SIGINT or SIGTERM. A failure to start is told in one line ("Beacon cannot start: ..."),
 * with exit code 1.
 */
import { startBeacon } from "./app/start.ts";
import { describeStartupError } from "./app/startup_error.ts";

if (import.meta.main) {
  let beacon;
  try {
    const config = (await import("./fresh.config.ts")).default;
    beacon = await startBeacon(config);
  } catch (error) {
    console.error(`Beacon cannot start: ${describeStartupError(error)}`);
    Deno.exit(1);
  }
  const stop = () => {
    beacon.shutdown().then(() => Deno.exit(0), (error: unknown) => {
      console.error(error);
      Deno.exit(1);
    });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
