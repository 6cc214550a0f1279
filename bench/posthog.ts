/**
 * posthog-js-shaped batches: gzip bodies of about 50 events as posthog-js sends them
 * (`{api_key, batch, sent_at}`, the SDK's `$`-properties) to `/i/v0/e/`, from a load
 * generator in its own process (this file, run as a script) over loopback with 4
 * connections; beside `POST /api/v1/events` batches of the same size and the same rows, and
 * against COPY of the same rows in the same run.
 *
 * @module
 */
import postgres from "postgres";
import {
  copyRate,
  httpRate,
  type IngestResult,
  type IngestTarget,
  makeEvents,
  median,
} from "./ingest.ts";

/** The figures of the posthog-js-shaped benchmark. */
export interface PostHogBatchResult extends IngestResult {
  /** `POST /api/v1/events` with the same batches, same run. */
  apiV1: { eventsPerSecond: number; ratioToCopy: number };
}

/**
 * Events with the properties posthog-js puts on a browser event, and uuid-shaped anonymous
 * ids as posthog-js makes them (so each request asks which of them are users).
 */
function postHogShapedEvents(n: number) {
  return makeEvents(n).map((e, i) => ({
    ...e,
    anonymous_id: `01900000-0000-7000-8000-${(i % 5000).toString(16).padStart(12, "0")}`,
  })).map((e, i) => ({
    ...e,
    properties: {
      ...e.properties,
      $os: "Linux",
      $browser: "Chrome",
      $device_type: "Desktop",
      $current_url: `https://app.example.com/page/${i % 50}`,
      $host: "app.example.com",
      $pathname: `/page/${i % 50}`,
      $browser_version: 140,
      $screen_height: 1080,
      $screen_width: 1920,
      $viewport_height: 960,
      $viewport_width: 1920,
      $lib: "web",
      $lib_version: "1.449.2",
      $insert_id: crypto.randomUUID().slice(0, 16),
      $time: Date.parse(e.timestamp) / 1000,
      distinct_id: e.anonymous_id,
      $device_id: e.anonymous_id,
      $session_id: `session-${i % 700}`,
      $window_id: `window-${i % 700}`,
      $referrer: "$direct",
      $referring_domain: "$direct",
      $process_person_profile: false,
    },
  }));
}

async function gzipBase64(text: string): Promise<string> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function postHogRate(
  target: IngestTarget,
  events: ReturnType<typeof postHogShapedEvents>,
  batch: number,
): Promise<number> {
  const file = await Deno.makeTempFile({ suffix: ".b64" });
  try {
    const lines: string[] = [];
    for (let i = 0; i < events.length; i += batch) {
      const slice = events.slice(i, i + batch).map((e) => ({
        uuid: e.uuid,
        event: e.event,
        properties: { ...e.properties, token: target.ingestKey },
        timestamp: e.timestamp,
      }));
      lines.push(
        await gzipBase64(
          JSON.stringify({
            api_key: target.ingestKey,
            batch: slice,
            sent_at: new Date().toISOString(),
          }),
        ),
      );
    }
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, target.beaconUrl, file, "4"],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    if (result.errors > 0) throw new Error(`${result.errors} posthog requests failed`);
    if (result.events !== events.length) {
      throw new Error(`stored ${result.events} of ${events.length} posthog events`);
    }
    return result.events / result.seconds;
  } finally {
    await Deno.remove(file);
  }
}

/**
 * posthog-js-shaped gzip batches against `/api/v1/events` batches and COPY, same rows.
 *
 * @param target The database and the Beacon in front of it.
 * @param options Events per run, events per batch, runs.
 * @returns The rates and ratios.
 */
export async function benchPostHogBatches(
  target: IngestTarget,
  options: { events?: number; batch?: number; runs?: number } = {},
): Promise<PostHogBatchResult> {
  const n = options.events ?? 50_000;
  const batch = options.batch ?? 50;
  const copies: number[] = [];
  const posthog: number[] = [];
  const apiV1: number[] = [];
  const sql = postgres(target.dbUrl, { max: 1, onnotice: () => {} });
  const empty = () => sql`truncate public.events, private.event_ids`;
  try {
    for (let run = 0; run < (options.runs ?? 3); run++) {
      const events = postHogShapedEvents(n);
      copies.push(await copyRate(target.dbUrl, events));
      posthog.push(await postHogRate(target, events, batch));
      await empty();
      apiV1.push(await httpRate(target.beaconUrl, target.ingestKey, events, batch));
      await empty();
    }
  } finally {
    await sql.end();
  }
  const copyPerSecond = median(copies);
  return {
    batch,
    events: n,
    eventsPerSecond: median(posthog),
    copyPerSecond,
    ratioToCopy: median(posthog) / copyPerSecond,
    apiV1: { eventsPerSecond: median(apiV1), ratioToCopy: median(apiV1) / copyPerSecond },
  };
}

/**
 * The ingestion table's rows for this benchmark (bench/report.ts).
 *
 * @param r The result, when the run measured it.
 * @param n How report.ts formats a number.
 * @returns Rows: path, batch, events/s, COPY rows/s, ratio.
 */
export function postHogReportRows(
  r: PostHogBatchResult | undefined,
  n: (value: number) => string,
): Array<Array<string | number>> {
  if (!r) return [];
  return [
    [
      "posthog-js-shaped batches, gzip, POST /i/v0/e/",
      r.batch,
      n(r.eventsPerSecond),
      n(r.copyPerSecond),
      r.ratioToCopy.toFixed(2),
    ],
    [
      "POST /api/v1/events, same batches and rows",
      r.batch,
      n(r.apiV1.eventsPerSecond),
      n(r.copyPerSecond),
      r.apiV1.ratioToCopy.toFixed(2),
    ],
  ];
}

// The load generator: POSTs each base64 line's gzip body to /i/v0/e/ with a fixed concurrency.
if (import.meta.main) {
  const [url, file, concurrencyText] = Deno.args;
  const bodies = (await Deno.readTextFile(file)).split("\n").filter((line) => line.length > 0)
    .map((line) => Uint8Array.from(atob(line), (ch) => ch.charCodeAt(0)));
  let next = 0;
  let events = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(concurrencyText ?? 4) }, async () => {
    while (next < bodies.length) {
      const res = await fetch(`${url}/i/v0/e/?ip=0&ver=1.449.2`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: bodies[next++],
      });
      const answer = await res.json();
      if (res.status !== 200 || answer.rejected?.length > 0) errors++;
      events += answer.accepted ?? 0;
    }
  }));
  console.log(JSON.stringify({ events, seconds: (performance.now() - started) / 1000, errors }));
}
