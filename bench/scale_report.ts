/**
 * Renders the scale run's figures (bench/scale_results.json, from bench/scale.ts) as the
 * "Scale run" section of BENCHMARKS.md, kept between two markers so that a later run replaces
 * it and `deno task bench` (which rewrites the rest of the file) keeps it.
 *
 * @module
 */
import type { EventBytes } from "./size.ts";
import type { Sample } from "./scale_load.ts";

/** What bench/scale.ts writes. */
export interface ScaleResults {
  machine: Record<string, string>;
  /** The commit measured (`-dirty` when the tree had uncommitted changes). */
  commit?: string;
  settings: {
    targetEvents: number;
    budgetMinutes: number;
    legacyTargetEvents: number;
    batch: number;
    windowEvents: number;
    dayEvents: number;
    users: number;
    from: string;
    until: string;
  };
  samples: Sample[];
  stoppedBy: "target" | "time budget";
  loadSeconds: number;
  /** The side-by-side comparison, at the size the legacy table reached. */
  legacy?: {
    events: number;
    currentEvents: number;
    current: EventBytes;
    legacy: EventBytes;
    rawDayMs: { current: number; legacy: number };
    deleteMonth: { rows: number; ms: number };
  };
  bytes: EventBytes;
  backfillSeconds: number;
  queries: { timeseries90: { p50: number; p95: number }; summary: { p50: number; p95: number } };
  dayRollup: { day: string; events: number; ms: number };
  dropMonth: {
    partition: string;
    rows: number;
    /** beacon.maintain_raw_events() with the months ahead already made: drop and id pruning. */
    ms: number;
    dropped: string[];
    idsPruned?: number;
    /** Making the months ahead beforehand (not part of `ms`). */
    ensureMs?: number;
    /** Other sessions holding a lock on public.events just before. */
    otherLockHolders?: number;
  };
  totalSeconds: number;
}

/** The markers around the section in BENCHMARKS.md. */
export const SCALE_START = "<!-- bench:scale start -->";
export const SCALE_END = "<!-- bench:scale end -->";

/** Below this size a run is a smoke run, not the issue's (at least 50 M events). */
const FULL_RUN = 50_000_000;

const int = (v: number) => Math.round(v).toLocaleString("en-US");
const millions = (v: number) => `${(v / 1e6).toFixed(v >= 10e6 ? 0 : 1)} M`;
const ms = (v: number) => (v >= 100 ? int(v) : v.toFixed(1));
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** HTTP rate at the end of the load over the rate at its start. */
export function httpRatio(r: ScaleResults): number {
  const first = r.samples[0];
  const last = r.samples[r.samples.length - 1];
  return last.httpPerSecond / first.httpPerSecond;
}

function legacySection(r: ScaleResults): string {
  const l = r.legacy;
  if (!l) return "";
  const withLegacy = r.samples.filter((s) => s.legacySqlPerSecond !== undefined);
  const first = withLegacy[0];
  const last = withLegacy[withLegacy.length - 1];
  const rates = (pick: (s: Sample) => number) =>
    first && last
      ? `${int(pick(first))} → ${int(pick(last))} (${(pick(last) / pick(first)).toFixed(2)})`
      : "—";
  return `
### Side by side with the table before issue 12, at ${millions(l.events)} events

Both tables loaded with the same batches in the same run (the partitioned one holds
${int(l.currentEvents)} events then: it also received the HTTP windows).

${
    table(["figure", "partitioned (now)", "before issue 12 (unpartitioned)"], [
      [
        "bytes per event, all counted",
        l.current.perEvent.toFixed(1),
        l.legacy.perEvent.toFixed(1),
      ],
      ["bytes per event, events table alone", l.current.tablePerEvent.toFixed(1), "—"],
      [
        "API insert statement, batches of 500: events/s at start → end (ratio)",
        rates((s) => s.sqlPerSecond),
        rates((s) => s.legacySqlPerSecond!),
      ],
      ["one day's raw group by, ms", ms(l.rawDayMs.current), ms(l.rawDayMs.legacy)],
      [
        "removing the oldest month of raw events",
        `drop partition: ${ms(r.dropMonth.ms)} ms (at ${millions(r.bytes.events)})`,
        `delete of ${int(l.deleteMonth.rows)} rows: ${ms(l.deleteMonth.ms)} ms`,
      ],
    ])
  }
`;
}

/** A target row: name, met or missed, figure. */
function target(name: string, ok: boolean, figure: string): string[] {
  return [name, ok ? "met" : "missed", figure];
}

/** The section, markers included. */
export function renderScaleSection(r: ScaleResults): string {
  const reached = r.bytes.events;
  const smoke = reached < FULL_RUN;
  const m = r.machine;
  const ratio = httpRatio(r);
  const first = r.samples[0];
  const last = r.samples[r.samples.length - 1];
  const title = smoke
    ? `## Scale run — smoke run at ${millions(reached)} events (not the issue's ≥ 50 M run)`
    : `## Scale run at ${millions(reached)} events`;
  const idBytes = Object.values(r.bytes.extra).reduce((a, b) => a + b, 0) / Math.max(1, reached);
  return `${SCALE_START}
${title}

Generated by \`deno task bench:scale\` (bench/scale.ts) on ${m.date.slice(0, 10)}${
    r.commit ? ` at commit \`${r.commit}\`` : ""
  }; raw figures in \`bench/scale_results.json\`.
Target ${millions(r.settings.targetEvents)} events, reached ${
    int(reached)
  } (stopped by the ${r.stoppedBy} after ${(r.loadSeconds / 60).toFixed(1)} min of loading; ${
    (r.totalSeconds / 60).toFixed(1)
  } min in all). Events from ${r.settings.from.slice(0, 10)} to ${
    r.settings.until.slice(0, 16)
  } UTC (twelve whole months and this one), ${int(r.settings.users)} users, loaded in batches of
${int(r.settings.batch)} by \`insert ... select\`, each event received at its own time (only the
ids received within the idempotency horizon kept, as after a year of nightly pruning).

${
    table(["cpu", "cores", "memory", "PostgreSQL", "Deno", "load average at start"], [[
      m.cpu,
      m.cores,
      m.memory,
      m.postgres,
      m.deno,
      m.loadAverage ?? "—",
    ]])
  }

### Ingestion during the load

Windows of ${
    int(r.settings.windowEvents)
  } events dated over the 30 days before today, median of 3: through \`POST /api/v1/events\`
(batches of 500, four connections from another process) and the API's insert statement without
HTTP (one connection), into each table.

${
    table(
      [
        "events in public.events",
        "HTTP events/s",
        "insert statement events/s",
        "before issue 12: events",
        "before issue 12: insert statement events/s",
      ],
      r.samples.map((s) => [
        int(s.events),
        int(s.httpPerSecond),
        int(s.sqlPerSecond),
        s.legacyEvents === undefined ? "—" : int(s.legacyEvents),
        s.legacySqlPerSecond === undefined ? "—" : int(s.legacySqlPerSecond),
      ]),
    )
  }

### At ${millions(reached)} events

${
    table(["figure", "value"], [
      ["monthly partitions", r.bytes.partitions],
      [
        "bytes per event (events table + ids kept)",
        `${r.bytes.perEvent.toFixed(1)} (${r.bytes.tablePerEvent.toFixed(1)} + ${
          idBytes.toFixed(1)
        })`,
      ],
      ["nightly backfill of every day loaded, s", r.backfillSeconds.toFixed(1)],
      [
        "timeseries, 90 days by day, superuser through RLS: p50 / p95 ms",
        `${ms(r.queries.timeseries90.p50)} / ${ms(r.queries.timeseries90.p95)}`,
      ],
      [
        "summary(), superuser through RLS: p50 / p95 ms",
        `${ms(r.queries.summary.p50)} / ${ms(r.queries.summary.p95)}`,
      ],
      [
        `aggregate_day of ${r.dayRollup.day} (${int(r.dayRollup.events)} events), ms`,
        ms(r.dayRollup.ms),
      ],
      [
        `dropping ${r.dropMonth.partition} (${
          int(r.dropMonth.rows)
        } events) through beacon.maintain_raw_events(), ms`,
        `${ms(r.dropMonth.ms)} (dropped: ${r.dropMonth.dropped.join(", ") || "none"})`,
      ],
    ])
  }
${legacySection(r)}
### Targets at ${millions(reached)} events

${
    table(["target", "result", "figure"], [
      target(
        "HTTP batch ingestion at the end ≥ 0.8 × at the start",
        ratio >= 0.8,
        `${ratio.toFixed(2)} (${int(last.httpPerSecond)} vs ${int(first.httpPerSecond)} events/s)`,
      ),
      target(
        "timeseries 90 days p50 < 20 ms",
        r.queries.timeseries90.p50 < 20,
        `${ms(r.queries.timeseries90.p50)} ms`,
      ),
      target(
        "summary() p50 < 50 ms",
        r.queries.summary.p50 < 50,
        `${ms(r.queries.summary.p50)} ms`,
      ),
      target(
        "one day's rollup < 3 s (a day of 1 M events)",
        r.dayRollup.ms < 3000,
        `${(r.dayRollup.ms / 1000).toFixed(2)} s for ${int(r.dayRollup.events)} events`,
      ),
      target(
        "dropping a month of raw events < 1 s",
        r.dropMonth.ms < 1000 && r.dropMonth.dropped.includes(r.dropMonth.partition),
        `${ms(r.dropMonth.ms)} ms for ${int(r.dropMonth.rows)} events`,
      ),
      ...(r.legacy
        ? [target(
          "≥ 30 % fewer bytes per event than before issue 12 (all counted)",
          1 - r.legacy.current.perEvent / r.legacy.legacy.perEvent >= 0.3,
          `${pct(1 - r.legacy.current.perEvent / r.legacy.legacy.perEvent)} at ${
            millions(r.legacy.events)
          }`,
        )]
        : []),
    ])
  }
${SCALE_END}
`;
}

/** `report` with its scale section replaced by `section`, or with `section` appended. */
export function replaceScaleSection(report: string, section: string): string {
  const start = report.indexOf(SCALE_START);
  const end = report.indexOf(SCALE_END);
  if (start >= 0 && end > start) {
    const after = report.slice(end + SCALE_END.length).replace(/^\n/, "");
    return report.slice(0, start) + section + after;
  }
  return report.replace(/\n*$/, "\n\n") + section;
}

/** The scale section of a report, or "" when it has none. */
export function scaleSectionOf(report: string): string {
  const start = report.indexOf(SCALE_START);
  const end = report.indexOf(SCALE_END);
  return start >= 0 && end > start ? report.slice(start, end + SCALE_END.length) + "\n" : "";
}

/** Renders the section and writes it into the report file (replacing an earlier one). */
export async function writeScaleSection(r: ScaleResults, reportFile: URL): Promise<void> {
  const report = await Deno.readTextFile(reportFile).catch(() => "# Benchmarks\n");
  await Deno.writeTextFile(reportFile, replaceScaleSection(report, renderScaleSection(r)));
}
