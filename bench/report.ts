/**
 * Turns bench/results.json into BENCHMARKS.md: tables, the machine, how to reproduce, and
 * each target as met or missed.
 *
 * @module
 */
import { postHogReportRows } from "./posthog.ts";
import { wireClientSection } from "./wire_client_report.ts";
import { replaceScaleSection, scaleSectionOf } from "./scale_report.ts";

import { edgeSection, edgeTarget } from "./edge.ts";

// deno-lint-ignore no-explicit-any
type Results = Record<string, any>;

function n(value: number, digits = 1): string {
  if (value >= 1000) return Math.round(value).toLocaleString("en-US");
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

/** A target: its name, and "met", "missed" or "not measured at this size", and the figure. */
type Target = [string, string, string];

/** A target judged from a figure the run may not have reached (a size it did not go to). */
function target<T>(
  name: string,
  figure: T | undefined | null,
  judge: (figure: T) => [boolean, string],
): Target {
  if (figure === undefined || figure === null) {
    return [name, "not measured at this size", "—"];
  }
  const [ok, shown] = judge(figure);
  return [name, ok ? "met" : "missed", shown];
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Retention, lifecycle, stickiness and adoption (bench/retention.ts), when measured. */
function personReportsSection(r: Results): string {
  if (!r.personReports) return "";
  const rollup = r.personReports.personBits ?? r.personReports.actorRollup;
  return `### Person reports (superuser through RLS, against naive SQL over analytics.person_events)

${
    table(
      ["report", "p50", "p95", "naive baseline", "speed-up"],
      r.personReports.reports.map((
        q: { name: string; p50: number; p95: number; baseline: number; baselineTimedOut?: boolean },
      ) => [
        q.name,
        n(q.p50),
        n(q.p95),
        q.baselineTimedOut ? `> ${n(q.baseline)} (stopped)` : n(q.baseline),
        `${q.baselineTimedOut ? "> " : ""}${n(q.baseline / q.p50, 1)}×`,
      ]),
    )
  }

The person bitmaps add ${n(rollup.backfillMs / 1000, 2)} s to a full backfill of ${rollup.days} days
and ${n(rollup.routineRunMs / 1000, 2)} s to a routine nightly run (3 days redone); they hold ${
    (rollup.rows ?? 0).toLocaleString("en-US")
  } pages of 4 KiB for ${(rollup.persons ?? 0).toLocaleString("en-US")} persons (${
    n((rollup.bytes ?? 0) / 1048576, 1)
  } MiB on disk).
`;
}

/** Bytes per event on disk against today's schema (bench/size.ts), when measured. */
function eventSizeSection(r: Results): string {
  const s = r.eventSize;
  if (!s) return "";
  const per = (b: Results, v: number) => n(v / b.events, 1);
  const row = (label: string, b: Results) => [
    label,
    b.partitions,
    per(b, b.heap),
    per(b, b.toast),
    Object.entries(b.indexes).map(([k, v]) => `${k.replace(/^.*\./, "")} ${per(b, v as number)}`)
      .join(", "),
    Object.entries(b.extra).map(([k, v]) => `${k} ${per(b, v as number)}`).join(", ") || "-",
    n(b.tablePerEvent, 1),
    n(b.perEvent, 1),
  ];
  const horizon = s.horizonDays === undefined
    ? "the idempotency horizon"
    : `the ${s.horizonDays}-day idempotency horizon`;
  return `### Bytes per event on disk (1 M bench events, both schemas loaded alike)

${
    table(
      ["schema", "tables", "heap", "toast", "indexes", "extra", "events table", "all"],
      [row("before issue 12 (unpartitioned)", s.legacy), row("now (partitioned)", s.current)],
    )
  }

The events table is ${n(s.tableReduction * 100, 1)} % smaller per event; counting the ids kept for
idempotency at steady state (${
    (s.idsKept ?? 0).toLocaleString("en-US")
  } ids: those received within ${horizon}, after 90 days of arrivals replayed with the nightly
prune), ${n(s.reduction * 100, 1)} %.
`;
}

/** The revenue report (bench/revenue.ts), when measured. */
function revenueSection(r: Results): string {
  if (!r.revenue) return "";
  return `### Revenue (superuser through RLS, against naive SQL: every customer's MRR on every day)

${
    table(
      ["report", "p50", "p95", "naive baseline", "speed-up"],
      r.revenue.map((q: { name: string; p50: number; p95: number; baseline: number }) => [
        q.name,
        n(q.p50),
        n(q.p95),
        n(q.baseline),
        `${n(q.baseline / q.p50, 1)}×`,
      ]),
    )
  }
${
    r.revenue[0]?.refreshMs === undefined ? "" : `
The hourly refresh of the kept days (\`beacon.refresh_revenue_report()\`, every subscription, 1,133
days) took ${n(r.revenue[0].refreshMs)} ms.
`
  }`;
}

/** Trends (bench/trends.ts), when measured. */
function trendsSection(r: Results): string {
  if (!r.trends) return "";
  const t = r.trends.tracking;
  return `### Trends (superuser through RLS, against naive SQL over the events)

${
    table(
      ["trend", "p50", "p95", "naive baseline", "speed-up", "same total"],
      r.trends.trends.map((
        q: { name: string; p50: number; p95: number; baseline: number; same: boolean },
      ) => [
        q.name,
        n(q.p50),
        n(q.p95),
        n(q.baseline),
        `${n(q.baseline / q.p50, 1)}×`,
        q.same ? "yes" : "NO",
      ]),
    )
  }

Tracking a property (page_view.path) rolls up every closed day in ${
    n(t.backfillMs / 1000, 2)
  } s, and adds ${n(t.dayMs, 0)} ms per day to the nightly job.
`;
}

/** One event per request with and without group commit (bench/group_commit.ts), when measured. */
function groupCommitSection(r: Results): string {
  if (!r.groupCommit) return "";
  return `
### One event per request: group commit

Each request carries one event; concurrent requests share a transaction (ingest/group_commit.ts).
Baseline: \`COPY\` of the same rows in the same run; the first row stores each request in a
transaction of its own (as before group commit). Latency: per request, sending to answer read.

${
    table(
      [
        "clients",
        "group commit",
        "events/s",
        "COPY rows/s (same run)",
        "ratio to COPY",
        "p50 ms",
        "p99 ms",
      ],
      r.groupCommit.map((
        x: {
          clients: number;
          grouped: boolean;
          eventsPerSecond: number;
          copyPerSecond: number;
          ratioToCopy: number;
          p50Ms: number;
          p99Ms: number;
        },
      ) => [
        x.clients,
        x.grouped ? "yes" : "no",
        n(x.eventsPerSecond),
        n(x.copyPerSecond),
        x.ratioToCopy.toFixed(3),
        n(x.p50Ms),
        n(x.p99Ms),
      ]),
    )
  }
`;
}

/** The group-commit target: 64 clients grouped ≥ 10× 4 clients each committing alone. */
function groupCommitTarget(r: Results): Target {
  const row = (clients: number, grouped: boolean) =>
    r.groupCommit?.find((x: { clients: number; grouped: boolean }) =>
      x.clients === clients && x.grouped === grouped
    );
  const [before, after] = [row(4, false), row(64, true)];
  return target(
    "one event per request, 64 clients with group commit ≥ 10× 4 clients without (same run)",
    before && after ? { before, after } : undefined,
    // Judged in events/s (one run, one machine); also told as ratios to COPY, measured
    // beside each row, because COPY of small samples swings within a run.
    ({ before, after }) => [
      after.eventsPerSecond >= 10 * before.eventsPerSecond,
      `${n(after.eventsPerSecond / before.eventsPerSecond)}× in events/s (${
        n(after.eventsPerSecond)
      } vs ${n(before.eventsPerSecond)}); ${
        n(after.ratioToCopy / before.ratioToCopy)
      }× as ratios to COPY (${after.ratioToCopy.toFixed(3)} vs ${before.ratioToCopy.toFixed(3)})`,
    ],
  );
}

/** The sections measured again later by `bench/remeasure.ts`, said after the commit line. */
function remeasured(r: Results): string {
  const again: Array<{ sections: string[]; commit: string; date: string }> = r.remeasured ?? [];
  return again.map((x) =>
    `, except ${x.sections.join(", ")}: measured again at commit \`${x.commit}\` on ${
      x.date.slice(0, 10)
    } by \`deno run -A bench/remeasure.ts\``
  ).join("");
}

/**
 * Renders the report.
 *
 * @param r The results `bench/run.ts` collected.
 * @returns BENCHMARKS.md's text.
 */
export function renderReport(r: Results): string {
  const m = r.machine;
  const largeLabel = r.largeMillions !== undefined
    ? `${r.largeMillions} M`
    : r.queries.find((q: { name: string }) => !q.name.endsWith("@ 1 M"))?.name.split("@ ")[1] ??
      "1 M";
  const find = (name: string) => r.queries.find((q: { name: string }) => q.name === name);
  const batch500 = r.ingestion.find((x: { batch: number }) => x.batch === 500);
  const tsDay = find(`timeseries events, 90 days by day @ ${largeLabel}`);
  const summary = find(`summary() @ ${largeLabel}`);
  const firstLoad = (path: string) =>
    r.pages.wire?.find((w: { path: string }) => w.path === path)?.first;
  const heaviestPage = (r.pages.wire ?? []).reduce(
    (most: { path: string; first: { totalBytes: number } } | undefined, w: typeof most) =>
      !most || w!.first.totalBytes > most.first.totalBytes ? w : most,
    undefined,
  );
  const targets: Target[] = [
    target(
      "HTTP batch ingestion at batches of 500 ≥ 40% of COPY",
      batch500,
      (b) => [
        b.ratioToCopy >= 0.4,
        `${(b.ratioToCopy * 100).toFixed(0)}% (${n(b.eventsPerSecond)} vs ${
          n(b.copyPerSecond)
        } rows/s)`,
      ],
    ),
    target(
      `timeseries 90 days at ${largeLabel} events: p50 < 20 ms`,
      tsDay,
      (q) => [q.p50 < 20, `${n(q.p50)} ms`],
    ),
    target(
      `timeseries 90 days at ${largeLabel} events: ≥ 100× faster than the raw scan`,
      tsDay,
      (q) => [q.baseline / q.p50 >= 100, `${n(q.baseline / q.p50, 0)}× (${n(q.baseline)} ms raw)`],
    ),
    target(
      `summary() at ${largeLabel} events < 50 ms`,
      summary,
      (q) => [q.p50 < 50, `${n(q.p50)} ms p50`],
    ),
    target(
      "one day of 1 M events aggregated < 3 s",
      r.nightly?.day1m,
      (ms) => [ms < 3000, `${n(ms / 1000, 2)} s`],
    ),
    target(
      `backfill of ${largeLabel} events over 90 days < 60 s`,
      r.nightly?.backfillLarge,
      (ms) => [ms < 60_000, `${n(ms / 1000)} s`],
    ),
    target(
      `/analytics rendered < 50 ms p50 at ${largeLabel} events`,
      r.pages?.analyticsP50,
      (ms) => [ms < 50, `${n(ms)} ms`],
    ),
    target(
      "< 100 KB on the wire per page, first load (HTML and JavaScript, as Chromium receives them)",
      heaviestPage,
      (w) => [
        w.first.totalBytes < 100 * 1024,
        `${kb(w.first.totalBytes)} KB, the heaviest page (${w.path})`,
      ],
    ),
    target(
      "second load of /analytics downloads no JavaScript again",
      firstLoad("/analytics") &&
        r.pages.wire.find((w: { path: string }) => w.path === "/analytics"),
      (w) => [w.second.scriptBytes === 0, `${kb(w.second.scriptBytes)} KB of JavaScript`],
    ),
    target(
      `any 90-day dashboard query at 20:00 UTC (19 hours rolled up, 1 open) at ${largeLabel} events: p50 < 5 ms`,
      r.liveHours?.queries?.length ? r.liveHours.queries : undefined,
      (qs: Array<{ name: string; p50: number }>) => {
        const worst = qs.reduce((a, b) => (b.p50 > a.p50 ? b : a));
        return [worst.p50 < 5, `${n(worst.p50)} ms at most (${worst.name.split(": ")[1]})`];
      },
    ),
    ...[[30, 300], [90, 1000]].map(([days, ms]) =>
      target(
        `3-step funnel over ${days} days at ${largeLabel} events: p50 < ${ms} ms`,
        find(`funnel, 3 steps, ${days} days @ ${largeLabel}`),
        (f) => [f.p50 < ms, `${n(f.p50)} ms (naive: ${n(f.baseline)} ms)`],
      )
    ),
    target(
      "revenue report, 12 months, 30 k subscriptions: p50 < 200 ms",
      r.revenue?.[0],
      (q: { p50: number; baseline: number }) => [
        q.p50 < 200,
        `${n(q.p50)} ms (naive: ${n(q.baseline)} ms)`,
      ],
    ),
  ];
  const trend = (name: string) =>
    r.trends?.trends.find((q: { name: string }) => q.name === `${name} @ ${largeLabel}`);
  targets.push(
    ...([
      ["trend, breakdown by a tracked property, 90 days by day", 50],
      ["trend, breakdown by an untracked property, 30 days by day", 2000],
      ["trend, p90 of a numeric property, 30 days by day", 2000],
      ["trend, 5 series and a formula, 90 days by day", 100],
    ] as Array<[string, number]>).map(([name, ms]) =>
      target(
        `${name} at ${largeLabel} events: p50 < ${ms} ms`,
        trend(name),
        (q: { p50: number; baseline: number }) => [
          q.p50 < ms,
          `${n(q.p50)} ms (naive: ${n(q.baseline)} ms)`,
        ],
      )
    ),
  );
  targets.push(groupCommitTarget(r));
  targets.push(target("edge function cold start ≤ 150% of the server's", r.edge, edgeTarget));
  targets.push(target(
    "≥ 30 % fewer bytes per event than before issue 12 (ids at steady state)",
    r.eventSize,
    (s: { reduction: number; horizonDays?: number }) => [
      s.reduction >= 0.3,
      `${n(s.reduction * 100, 1)} % (${s.horizonDays ?? "?"}-day id horizon)`,
    ],
  ));
  const pgQueries = new Map(
    r.queries.filter((q: { name: string }) => q.name.endsWith("@ 1 M")).map((
      q: { name: string; p50: number },
    ) => [q.name.replace(" @ 1 M", ""), q.p50]),
  );
  return `# Benchmarks

Generated by \`deno task bench\` (bench/run.ts) on ${m.date.slice(0, 10)}; raw figures in
\`bench/results.json\`. Every time is a median (queries: p50 and p95 of 15 runs, after one
warm-up), and every speed is set against a baseline measured in the same run on the same
machine, because these machines are shared and noisy: read the ratios first. Every figure
was measured at commit \`${m.commit ?? "unknown"}\` with ${largeLabel} events as the large size${
    remeasured(r)
  }.

## Machine

${
    table(["cpu", "cores", "memory", "PostgreSQL", "Deno", "commit measured"], [[
      m.cpu,
      m.cores,
      m.memory,
      m.postgres,
      m.deno,
      m.commit ?? "unknown",
    ]])
  }

PostgreSQL 15 is started by the benchmark itself (tests/support/postgres15.ts) with
\`fsync=on\`, \`shared_buffers=2GB\`, \`work_mem=64MB\`, \`maintenance_work_mem=1GB\`,
\`max_wal_size=8GB\`; migrations run as a non-superuser \`postgres\`, as on Supabase.

## How to reproduce

\`\`\`sh
apt-get install -y postgresql-15 postgresql-15-cron postgresql-15-pgtap   # see README.md
deno task bench                     # about ${Math.round(r.totalSeconds / 60)} minutes here
BENCH_EVENTS_MILLIONS=3 deno task bench   # a smaller large data set
\`\`\`

Data: ${"100,000"} users (a third with subscriptions), events spread evenly over the last
90 days, a quarter anonymous, six event types.

## 1. Ingestion

Load from a second process over loopback, 4 concurrent connections; baseline: \`COPY\` of the
same rows into the same table (with its indexes) in the same run.

${
    table(
      ["path", "batch", "events/s", "COPY rows/s (same run)", "ratio to COPY"],
      [
        ...r.ingestion.map((
          x: { batch: number; eventsPerSecond: number; copyPerSecond: number; ratioToCopy: number },
        ) => [
          "POST /api/v1/events",
          x.batch,
          n(x.eventsPerSecond),
          n(x.copyPerSecond),
          x.ratioToCopy.toFixed(2),
        ]),
        [
          "supabase-js insert (PostgREST's statement as authenticated, RLS on, one connection)",
          r.supabaseJs.batch,
          n(r.supabaseJs.eventsPerSecond),
          n(r.supabaseJs.copyPerSecond),
          r.supabaseJs.ratioToCopy.toFixed(2),
        ],
        ...postHogReportRows(r.posthogBatches, n),
      ],
    )
  }
${groupCommitSection(r)}
## 2. Dashboard queries

Milliseconds, each query run as a signed-in superuser through row-level security: the set-up
(role, claims, timeout) and the statement in one message, one transaction, one round trip
(\`queryAsUser\`, since 2026-11-27). Before that, begin, the set-up, the statement and commit
were sent apart, as the dashboard's API reads still are (\`actAsUser\`: three round trips, one
more for each read with parameters). Baseline: the same answer computed from the raw events, by
the same user.

${
    table(
      ["query", "p50", "p95", "baseline", "baseline is", "speed-up"],
      [...r.queries, ...(r.liveHours?.queries ?? [])].map((
        q: { name: string; p50: number; p95: number; baseline: number; baselineName: string },
      ) => [
        q.name,
        n(q.p50),
        n(q.p95),
        n(q.baseline),
        q.baselineName,
        `${n(q.baseline / q.p50, 1)}×`,
      ]),
    )
  }

${personReportsSection(r)}
${revenueSection(r)}
${trendsSection(r)}
${edgeSection(r.edge)}
${eventSizeSection(r)}
## 3. The nightly job

${
    table(["what", "seconds"], [
      ["full backfill, 1 M events over 90 days", n(r.nightly.backfill1m / 1000, 2)],
      [`full backfill, ${largeLabel} events over 90 days`, n(r.nightly.backfillLarge / 1000, 2)],
      ["aggregate_day, a day of 100 k events", n(r.nightly.day100k / 1000, 2)],
      ["aggregate_day, a day of 1 M events", n(r.nightly.day1m / 1000, 2)],
      ["baseline: one group by over that 1 M-event day", n(r.nightly.rawDay / 1000, 2)],
      ...(r.liveHours
        ? [[
          `hourly: close_hour, one hour at the ${largeLabel} rate (${
            n(r.liveHours.dayEvents / 20, 0)
          } events)`,
          n(r.liveHours.closeHourMs / 1000, 3),
        ]]
        : []),
      ...(r.liveHours?.snapshotMs !== undefined
        ? [[
          `every minute: refresh_live_parts at 19:59, the open hour at the ${largeLabel} rate, the windows' merged pages built again`,
          n(r.liveHours.snapshotMs / 1000, 3),
        ]]
        : []),
    ])
  }

## 4. Pages

Server render time of the whole request over loopback, signed in as a superuser, at
${largeLabel} events; JavaScript is what the page loads (the chart island, the shared chunk,
the revive runtime), gzipped.

${
    table(["page", "p50 ms", "p95 ms"], [
      ["/analytics", n(r.pages.analyticsP50), n(r.pages.analyticsP95)],
      ["/analytics/events", n(r.pages.eventsP50), n(r.pages.eventsP95)],
    ])
  }

${
    table(
      ["file", "KB", "KB gzipped"],
      r.pages.files.map((f: { file: string; bytes: number; gzipBytes: number }) => [
        f.file,
        (f.bytes / 1024).toFixed(1),
        (f.gzipBytes / 1024).toFixed(1),
      ]),
    )
  }

The bundle files gzipped come to ${
    (r.pages.jsGzipBytes / 1024).toFixed(1)
  } KB; what a browser receives is below.

### Bytes on the wire

Debian's Chromium loads each page signed in, and its own network log (DevTools protocol) gives the
bytes of every response as they crossed the wire: headers and the compressed body, with the
browser's \`accept-encoding\`. First with an empty cache, then a second visit with the cache the
first one left (JavaScript is served with content-hashed names as \`immutable\`: taken from the
cache without a request).

${
    r.pages.wire
      ? table(
        [
          "page",
          "first load KB",
          "of which JavaScript KB",
          "second load KB",
          "JS downloaded again",
          "JS revalidated (304)",
          "JS from cache",
        ],
        r.pages.wire.map((
          w: {
            path: string;
            first: { totalBytes: number; scriptBytes: number };
            second: {
              totalBytes: number;
              scriptsDownloaded: number;
              scriptsRevalidated: number;
              scriptsFromCache: number;
            };
          },
        ) => [
          w.path,
          kb(w.first.totalBytes),
          kb(w.first.scriptBytes),
          kb(w.second.totalBytes),
          w.second.scriptsDownloaded,
          w.second.scriptsRevalidated,
          w.second.scriptsFromCache,
        ]),
      )
      : "not measured in this run"
  }

## 5. Embedded (PGlite) at 1 M events, against PostgreSQL 15

${
    table(["figure", "PGlite", "PostgreSQL 15", "PGlite / PostgreSQL"], [
      [
        "HTTP ingestion, batches of 500 (events/s)",
        n(r.pglite.ingestion.eventsPerSecond),
        n(batch500.eventsPerSecond),
        (r.pglite.ingestion.eventsPerSecond / batch500.eventsPerSecond).toFixed(2),
      ],
      [
        "full backfill of 1 M events (s)",
        n(r.pglite.backfill / 1000, 2),
        n(r.nightly.backfill1m / 1000, 2),
        (r.pglite.backfill / r.nightly.backfill1m).toFixed(2),
      ],
      ...r.pglite.queries.map((q: { name: string; p50: number }) => {
        const name = q.name.replace(" @ 1 M (PGlite)", "");
        const pg = pgQueries.get(name) as number | undefined;
        return pg === undefined
          ? [`${name}, p50 ms`, n(q.p50), "not measured", "—"]
          : [`${name}, p50 ms`, n(q.p50), n(pg), (q.p50 / pg).toFixed(2)];
      }),
    ])
  }

${wireClientSection(r.wireClient)}
## Targets

${
    table(
      ["target", "result", "figure"],
      targets,
    )
  }
`;
}

/** Where {@linkcode saveResults} writes. */
export interface SaveTargets {
  /** The raw figures (bench/results.json). */
  resultsFile: string | URL;
  /** The report (BENCHMARKS.md). */
  reportFile: string | URL;
}

/**
 * Writes the raw figures first, then the report. A report that fails to render costs no
 * figure: they are already written, and printed to stdout as well.
 *
 * @param results What `bench/run.ts` collected.
 * @param targets Where to write.
 * @returns Whether the report was written.
 */
export async function saveResults(results: Results, targets: SaveTargets): Promise<boolean> {
  await Deno.writeTextFile(targets.resultsFile, JSON.stringify(results, null, 2) + "\n");
  let report: string;
  try {
    report = renderReport(results);
  } catch (error) {
    console.log(JSON.stringify(results, null, 2));
    console.error(
      `the report could not be rendered; bench/results.json holds the figures: ${
        (error as Error).stack ?? error
      }`,
    );
    return false;
  }
  // The scale run's section (bench/scale.ts) is written by that run: keep it.
  const scale = scaleSectionOf(await Deno.readTextFile(targets.reportFile).catch(() => ""));
  await Deno.writeTextFile(targets.reportFile, scale ? replaceScaleSection(report, scale) : report);
  return true;
}
