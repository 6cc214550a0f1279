/**
 * Group-commit benchmark: one event per request through `POST /api/v1/events` at 1, 8 and
 * 64 concurrent clients (load from a second process over loopback), events per second and
 * each request's p50/p99 latency, against COPY of the same rows in the same run. Beside it,
 * the same requests without group commit (each request its own transaction, as before) at
 * 4 clients: the figure the 64-client one is compared with.
 *
 * @module
 */
import postgres from "postgres";
import { copyRate, makeEvents, median } from "./ingest.ts";
import { openPostgres } from "../database/postgres.ts";
import { storeEvents } from "../ingest/store.ts";
import { createTestApp, TEST_INGEST_KEY } from "../tests/support/app.ts";

/** One measured configuration. */
export interface GroupCommitResult {
  /** Concurrent clients, each sending one event per request. */
  clients: number;
  /** Whether Beacon grouped the requests' commits. */
  grouped: boolean;
  /** Requests (= events) per run. */
  events: number;
  /** Median events per second over the runs. */
  eventsPerSecond: number;
  /** Median COPY rate of the same rows, measured in the same run. */
  copyPerSecond: number;
  /** eventsPerSecond / copyPerSecond. */
  ratioToCopy: number;
  /** Median over the runs of each run's median request latency, in milliseconds. */
  p50Ms: number;
  /** Median over the runs of each run's 99th-percentile request latency, in milliseconds. */
  p99Ms: number;
}

/** The load generator's answer. */
interface Load {
  events: number;
  seconds: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

async function singleEventLoad(
  url: string,
  key: string,
  events: ReturnType<typeof makeEvents>,
  clients: number,
): Promise<Load> {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(file, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./load_generator.ts", import.meta.url).pathname,
        url,
        key,
        file,
        String(clients),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const load: Load = JSON.parse(new TextDecoder().decode(out.stdout));
    if (load.errors > 0) throw new Error(`${load.errors} requests failed`);
    if (load.events !== events.length) {
      throw new Error(`stored ${load.events} of ${events.length} events`);
    }
    return load;
  } finally {
    await Deno.remove(file);
  }
}

/** Where the benchmark runs. */
export interface GroupCommitTarget {
  /** A connection string to the database (its owner). */
  dbUrl: string;
  /** The running Beacon's address (it groups commits, as started). */
  beaconUrl: string;
  /** Its ingest key. */
  ingestKey: string;
}

/**
 * One event per request at each client count through the running Beacon (grouped), and at
 * 4 clients through an app on the same database that stores each request alone.
 *
 * @param target The database and the Beacon in front of it.
 * @param options Events per run for each client count, runs.
 * @returns The ungrouped 4-client row first, then one grouped row per client count.
 */
export async function benchGroupCommit(
  target: GroupCommitTarget,
  options: { events?: Record<number, number>; ungroupedEvents?: number; runs?: number } = {},
): Promise<GroupCommitResult[]> {
  const sizes = options.events ?? { 1: 2000, 8: 8000, 64: 30_000 };
  const runs = options.runs ?? 3;
  const measure = async (
    url: string,
    key: string,
    clients: number,
    n: number,
    grouped: boolean,
  ) => {
    const loads: Load[] = [];
    const copies: number[] = [];
    for (let run = 0; run < runs; run++) {
      const events = makeEvents(n);
      copies.push(await copyRate(target.dbUrl, events));
      loads.push(await singleEventLoad(url, key, events, clients));
      const sql = postgres(target.dbUrl, { max: 1, onnotice: () => {} });
      await sql`truncate public.events, private.event_ids`;
      await sql.end();
    }
    const eventsPerSecond = median(loads.map((l) => l.events / l.seconds));
    const copyPerSecond = median(copies);
    return {
      clients,
      grouped,
      events: n,
      eventsPerSecond,
      copyPerSecond,
      ratioToCopy: eventsPerSecond / copyPerSecond,
      p50Ms: median(loads.map((l) => l.p50Ms)),
      p99Ms: median(loads.map((l) => l.p99Ms)),
    };
  };

  const results: GroupCommitResult[] = [];
  // Before group commit: each request stores its event in a transaction of its own.
  const db = openPostgres(target.dbUrl);
  const { app } = await createTestApp({ db, storeEvents: (events) => storeEvents(db, events) });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    results.push(await measure(url, TEST_INGEST_KEY, 4, options.ungroupedEvents ?? 2000, false));
  } finally {
    await server.shutdown();
    await db.close();
  }
  for (const [clients, n] of Object.entries(sizes)) {
    results.push(await measure(target.beaconUrl, target.ingestKey, Number(clients), n, true));
  }
  return results;
}

if (import.meta.main) {
  // A standalone run at a small size: `deno run -A bench/group_commit.ts`.
  const { startOwnMigratedPostgres15 } = await import("../tests/support/database.ts");
  const { startBenchBeacon } = await import("./harness.ts");
  const { pg, db } = await startOwnMigratedPostgres15({ settings: { fsync: "on" } });
  const beacon = await startBenchBeacon({ kind: "postgres", url: pg.url });
  try {
    const scale = Number(Deno.env.get("BENCH_SCALE") ?? 0.25);
    const rows = await benchGroupCommit(
      { dbUrl: pg.url, beaconUrl: beacon.url, ingestKey: beacon.ingestKey },
      {
        events: { 1: 2000 * scale, 8: 8000 * scale, 64: 30_000 * scale },
        ungroupedEvents: 2000 * scale,
        runs: Number(Deno.env.get("BENCH_RUNS") ?? 1),
      },
    );
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    await beacon.shutdown();
    await db.close();
    await pg.stop();
  }
}
