/**
 * A test app served over a real socket in its own process, so a test can measure the
 * server's memory (`/proc/<pid>/status`) apart from its own. Run as
 * `deno run -A tests/support/ingest_server.ts '<BeaconConfigInput as JSON>'`; prints
 * `{"port": N}` on one line once listening, and stops when its standard input closes.
 *
 * @module
 */
import type { BeaconConfigInput } from "../../config/mod.ts";
import { createTestApp } from "./app.ts";

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0] ?? "{}") as BeaconConfigInput;
  const t = await createTestApp({ config });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    t.app.fetch,
  );
  console.log(JSON.stringify({ port: server.addr.port }));
  // Until the parent closes our standard input.
  for await (const _ of Deno.stdin.readable) { /* ignore */ }
  await server.shutdown();
  await t.close();
}
