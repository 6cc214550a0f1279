/**
 * Ingestion on the embedded database while a Postgres client is connected on
 * `BEACON_SQL_PORT`: HTTP ingestion (batches of 500, four senders in their own process) with
 * no client, with an analyst's psql connected and idle, and with an analyst's psql querying
 * `analytics.daily_overview` back to back, all in the same run; the ratios are against no
 * client.
 *
 * Standalone: `deno run -A bench/wire_client.ts [events]`.
 *
 * @module
 */
import { startBeacon } from "../app/start.ts";
import { defineConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";
import { httpRate, makeEvents, median } from "./ingest.ts";
import { findPsql, openPsqlSession } from "../tests/support/psql.ts";

/** One condition's figures. */
export interface WireClientCondition {
  /** What the client was doing. */
  client: "none" | "idle" | "busy";
  /** Events stored per second (median of the runs). */
  eventsPerSecond: number;
  /** Against no client. */
  ratio: number;
  /** Queries the client completed per second while ingestion ran (busy only). */
  clientQueriesPerSecond?: number;
}

/** The benchmark's figures. */
export interface WireClientResult {
  /** Events per run. */
  events: number;
  /** Runs per condition. */
  runs: number;
  /** Each condition. */
  conditions: WireClientCondition[];
}

const PASSWORD = "bench-wire-client-password";
const KEY = "bk_bench_ingest_key_0123456789";

async function busyClient(psql: string, port: number) {
  const file = await Deno.makeTempFile({ suffix: ".sql" });
  await Deno.writeTextFile(
    file,
    "set role analyst;\n" +
      "select count(*) from analytics.daily_overview;\n".repeat(200_000),
  );
  const child = new Deno.Command(psql, {
    args: [
      "-X",
      "-q",
      "-A",
      "-t",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "-f",
      file,
    ],
    env: { PGPASSWORD: PASSWORD },
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let lines = 0;
  const counting = (async () => {
    for await (const chunk of child.stdout) for (const b of chunk) if (b === 10) lines++;
  })();
  return {
    count: () => lines,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await counting.catch(() => {});
      await Deno.remove(file);
    },
  };
}

/**
 * Measures ingestion without and with a connected client.
 *
 * @param options Events per run (default 20,000) and rounds (default 3).
 * @returns The figures, or undefined when psql is not installed.
 */
export async function benchWireClient(
  options: { events?: number; runs?: number } = {},
): Promise<WireClientResult | undefined> {
  const psql = await findPsql();
  if (!psql) return undefined;
  const events = options.events ?? 20_000;
  const runs = options.runs ?? 3;
  const beacon = await startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database: { kind: "embedded", dataDir: "memory://" },
      seedDemoData: false,
      nightly: "never",
      ingestKey: KEY,
      sql: { port: 0, password: PASSWORD },
    }),
    { log: silentLogger, banner: () => {} },
  );
  const port = beacon.sql!.port;
  const once = async () => {
    const perSecond = await httpRate(beacon.url, KEY, makeEvents(events), 500);
    await beacon.db.query("truncate public.events, private.event_ids");
    return perSecond;
  };
  // The conditions take turns in each round, so drift (a warming JIT, other load on the
  // machine) spreads over all three.
  const rates = { none: [] as number[], idle: [] as number[], busy: [] as number[] };
  const clientRates: number[] = [];
  try {
    await once(); // warm up
    for (let run = 0; run < runs; run++) {
      rates.none.push(await once());
      const idle = openPsqlSession(psql, port, PASSWORD);
      await idle.send("set role analyst; select count(*) from analytics.daily_overview;");
      rates.idle.push(await once());
      await idle.close();
      const busy = await busyClient(psql, port);
      const started = performance.now();
      rates.busy.push(await once());
      clientRates.push(busy.count() / ((performance.now() - started) / 1000));
      await busy.stop();
    }
    const none = median(rates.none);
    return {
      events,
      runs,
      conditions: [
        { client: "none", eventsPerSecond: none, ratio: 1 },
        { client: "idle", eventsPerSecond: median(rates.idle), ratio: median(rates.idle) / none },
        {
          client: "busy",
          eventsPerSecond: median(rates.busy),
          ratio: median(rates.busy) / none,
          clientQueriesPerSecond: median(clientRates),
        },
      ],
    };
  } finally {
    await beacon.shutdown();
  }
}

if (import.meta.main) {
  const events = Number(Deno.args[0] ?? 20_000);
  console.log(JSON.stringify(await benchWireClient({ events }), null, 2));
}
