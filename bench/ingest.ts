/**
 * Ingestion benchmark: events per second through `POST /api/v1/events` in batches of 1,
 * 100, 500 and 1,000 (load from a second process over loopback), against the baseline of
 * `COPY` of the same rows into the same table in the same run.
 *
 * @module
 */
import postgres from "postgres";
import { uuidV7 } from "../ingest/uuid.ts";

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

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Request-shaped events for the ingestion benchmarks, with ids as current SDKs (posthog-js)
 * make them: UUID version 7 of the instant the event happened.
 *
 * @param n How many.
 * @param at The instant of event `i` (milliseconds), by default one second apart up to now,
 *   in time order, over at most a day.
 */
export function makeEvents(
  n: number,
  at: (i: number) => number = (() => {
    const now = Date.now();
    return (i: number) => now - ((n - 1 - i) % 86_400) * 1000;
  })(),
) {
  const types = ["page_view", "feature_used", "button_click", "goal_submitted"];
  return Array.from({ length: n }, (_, i) => {
    const ms = Math.floor(at(i));
    return {
      event: types[i % types.length],
      uuid: uuidV7(ms),
      anonymous_id: `visitor-${i % 5000}`,
      timestamp: new Date(ms).toISOString(),
      properties: { path: `/page/${i % 50}`, referrer: "https://example.com/", n: i },
    };
  });
}

/** COPY's rate for the same rows into `public.events`, emptied before and after (rows/s). */
export async function copyRate(
  url: string,
  events: ReturnType<typeof makeEvents>,
): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`truncate public.events, private.event_ids`;
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
    await sql`truncate public.events, private.event_ids`;
    return events.length / seconds;
  } finally {
    await sql.end();
  }
}

/**
 * Events per second through `POST /api/v1/events` for prepared events in batches, from a
 * load generator in its own process over loopback (bounded in count and time).
 *
 * @param beaconUrl Beacon's address.
 * @param key The ingest key.
 * @param events The events.
 * @param batch Events per request.
 * @returns Events stored per second.
 */
export async function httpRate(
  beaconUrl: string,
  key: string,
  events: ReturnType<typeof makeEvents>,
  batch: number,
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
    if (result.events !== events.length) {
      throw new Error(`stored ${result.events} of ${events.length} events`);
    }
    return result.events / result.seconds;
  } finally {
    await Deno.remove(file);
  }
}

/** Where the ingestion benchmark runs. */
export interface IngestTarget {
  /** A connection string to the database (its owner). */
  dbUrl: string;
  /** The running Beacon's address. */
  beaconUrl: string;
  /** Its ingest key. */
  ingestKey: string;
}

/**
 * HTTP ingestion against COPY, for each batch size.
 *
 * @param target The database and the Beacon in front of it.
 * @param options Events per run per batch size, and how many runs.
 * @returns One result per batch size.
 */
export async function benchIngestion(
  target: IngestTarget,
  options: { events?: Record<number, number>; runs?: number } = {},
): Promise<IngestResult[]> {
  const sizes = options.events ?? { 1: 2000, 100: 30_000, 500: 100_000, 1000: 100_000 };
  const runs = options.runs ?? 3;
  const results: IngestResult[] = [];
  for (const [batchText, n] of Object.entries(sizes)) {
    const batch = Number(batchText);
    const http: number[] = [];
    const copy: number[] = [];
    for (let run = 0; run < runs; run++) {
      const events = makeEvents(n);
      copy.push(await copyRate(target.dbUrl, events));
      http.push(await httpRate(target.beaconUrl, target.ingestKey, events, batch));
      const sql = postgres(target.dbUrl, { max: 1, onnotice: () => {} });
      await sql`truncate public.events, private.event_ids`;
      await sql.end();
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
  return results;
}

/**
 * The statement PostgREST runs for a supabase-js `insert` of a batch, as `authenticated`
 * with RLS, from one connection, against COPY of the same rows.
 *
 * @param dbUrl A connection string to the database (its owner, a member of authenticated).
 * @param options Events per run, batch size, runs.
 * @returns Events per second, COPY's rate, and their ratio.
 */
export async function benchSupabaseJsInserts(
  dbUrl: string,
  options: { events?: number; batch?: number; runs?: number } = {},
): Promise<IngestResult> {
  const n = options.events ?? 50_000;
  const batch = options.batch ?? 500;
  const rates: number[] = [];
  const copies: number[] = [];
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const [{ id: userId }] = await sql`
      insert into auth.users (id, email) values (gen_random_uuid(), 'bench-' || gen_random_uuid() || '@bench.test')
      returning id::text`;
    for (let run = 0; run < (options.runs ?? 3); run++) {
      const events = makeEvents(n);
      copies.push(await copyRate(dbUrl, events));
      const started = performance.now();
      for (let i = 0; i < events.length; i += batch) {
        const body = JSON.stringify(
          events.slice(i, i + batch).map((e) => ({
            id: e.uuid,
            event_type: e.event,
            anonymous_id: e.anonymous_id,
            payload: e.properties,
            timestamp: e.timestamp,
          })),
        );
        await sql.begin(async (tx) => {
          await tx.unsafe(
            `select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', $1, true),
                    set_config('request.method', 'POST', true),
                    set_config('request.path', '/events', true)`,
            [JSON.stringify({ sub: userId, role: "authenticated" })],
          );
          await tx.unsafe(
            `insert into public.events (id, event_type, anonymous_id, payload, "timestamp")
             select id, event_type, anonymous_id, payload, "timestamp"
               from json_populate_recordset(null::public.events, $1::text::json)`,
            [body],
          );
        });
      }
      rates.push(n / ((performance.now() - started) / 1000));
      await sql`truncate public.events, private.event_ids`;
    }
  } finally {
    await sql.end();
  }
  const eventsPerSecond = median(rates);
  const copyPerSecond = median(copies);
  return {
    batch,
    events: n,
    eventsPerSecond,
    copyPerSecond,
    ratioToCopy: eventsPerSecond / copyPerSecond,
  };
}
