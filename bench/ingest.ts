/**
 * Ingestion benchmark: events per second through `POST /api/v1/events` in batches of 1,
 * 100, 500 and 1,000 (load from a second process over loopback), against the baseline of
 * `COPY` of the same rows into the same table in the same run.
 *
 * @module
 */
import { startPostgres15 } from "../tests/support/postgres15.ts";
import { openPostgres } from "../database/postgres.ts";
import { applyBootstrap, applyMigrations } from "../database/migrate.ts";
import { startBeacon } from "../server/start.ts";
import { defineConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import postgres from "postgres";

/** One measured configuration. */
export interface IngestResult {
  batch: number;
  events: number;
  /** Median events per second over the runs. */
  eventsPerSecond: number;
  /** Median COPY rate of the same rows, measured in the same run. */
  copyPerSecond: number;
  /** eventsPerSecond / copyPerSecond. */
  ratioToCopy: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function makeEvents(n: number) {
  const types = ["page_view", "feature_used", "button_click", "goal_submitted"];
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    event: types[i % types.length],
    uuid: crypto.randomUUID(),
    anonymous_id: `visitor-${i % 5000}`,
    timestamp: new Date(now - (i % 86_400) * 1000).toISOString(),
    properties: { path: `/page/${i % 50}`, referrer: "https://example.com/", n: i },
  }));
}

async function copyRate(url: string, events: ReturnType<typeof makeEvents>): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`truncate public.events`;
    const lines = events.map((e) =>
      [
        e.uuid,
        e.event,
        "\\N",
        e.anonymous_id,
        JSON.stringify(e.properties).replace(/\\/g, "\\\\"),
        e.timestamp,
      ]
        .join("\t")
    ).join("\n") + "\n";
    const started = performance.now();
    const writable = await sql
      .unsafe(
        `copy public.events (id, event_type, user_id, anonymous_id, payload, "timestamp") from stdin`,
      )
      .writable();
    const writer = writable as unknown as NodeJS.WritableStream;
    await new Promise<void>((resolve, reject) => {
      writer.on("error", reject);
      writer.on("finish", () => resolve());
      writer.write(lines);
      writer.end();
    });
    const seconds = (performance.now() - started) / 1000;
    await sql`truncate public.events`;
    return events.length / seconds;
  } finally {
    await sql.end();
  }
}

async function httpRate(
  beaconUrl: string,
  key: string,
  events: ReturnType<typeof makeEvents>,
  batch: number,
  dbUrl: string,
): Promise<number> {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += batch) {
      const slice = events.slice(i, i + batch);
      bodies.push(JSON.stringify(batch === 1 ? slice[0] : { batch: slice }));
    }
    await Deno.writeTextFile(file, bodies.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./load_generator.ts", import.meta.url).pathname,
        beaconUrl,
        key,
        file,
        "4",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    if (result.errors > 0) throw new Error(`${result.errors} requests failed`);
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    await sql`truncate public.events`;
    await sql.end();
    return result.events / result.seconds;
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Runs the ingestion benchmark on a PostgreSQL 15 it starts.
 *
 * @param options Events per run per batch size, and how many runs.
 * @returns One result per batch size.
 */
export async function benchIngestion(
  options: { events?: Record<number, number>; runs?: number } = {},
): Promise<IngestResult[]> {
  const sizes = options.events ?? { 1: 3000, 100: 50_000, 500: 100_000, 1000: 100_000 };
  const runs = options.runs ?? 3;
  const pg = await startPostgres15();
  try {
    const admin = openPostgres(pg.adminUrl, { max: 1 });
    await applyBootstrap(admin);
    await admin.close();
    const db = openPostgres(pg.url);
    await applyMigrations(db, { bootstrap: "never" });
    await db.close();
    const beacon = await startBeacon(
      defineConfig({
        port: 0,
        hostname: "127.0.0.1",
        database: { kind: "postgres", url: pg.url },
        seedDemoData: false,
        ingestKey: "bk_bench_ingest_key_0123456789",
        nightly: "never",
      }),
      { log: silentLogger, banner: () => {} },
    );
    const results: IngestResult[] = [];
    try {
      for (const [batchText, n] of Object.entries(sizes)) {
        const batch = Number(batchText);
        const http: number[] = [];
        const copy: number[] = [];
        for (let run = 0; run < runs; run++) {
          const events = makeEvents(n);
          copy.push(await copyRate(pg.url, events));
          http.push(await httpRate(beacon.url, beacon.ingestKey, events, batch, pg.url));
        }
        const eventsPerSecond = median(http);
        const copyPerSecond = median(copy);
        results.push({
          batch,
          events: n,
          eventsPerSecond,
          copyPerSecond,
          ratioToCopy: eventsPerSecond / copyPerSecond,
        });
      }
    } finally {
      await beacon.shutdown();
    }
    return results;
  } finally {
    await pg.stop();
  }
}

if (import.meta.main) {
  const results = await benchIngestion();
  for (const r of results) {
    console.log(
      `batch ${r.batch}: ${Math.round(r.eventsPerSecond)} events/s, COPY ${
        Math.round(r.copyPerSecond)
      } rows/s, ratio ${r.ratioToCopy.toFixed(2)}`,
    );
  }
}
