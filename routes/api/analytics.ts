/**
 * The JSON API the dashboard uses, each answered as the signed-in user so RLS decides:
 * `GET /api/v1/analytics/summary`, `/timeseries` (and `.csv`), `/breakdown`, `/events`
 * (and `.csv`, streamed). A bad parameter throws a `ParamError`, which the app's `onError`
 * answers with 400 naming the parameter.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { asViewer } from "../_viewer.ts";
import {
  type EventFilters,
  ParamError,
  parseEventFilters,
  parseRange,
  parseSelection,
} from "../../analytics/params.ts";
import {
  type ExplorerEvent,
  readBreakdown,
  readEventsPage,
  readMetrics,
  readSeries,
  readSummary,
} from "../../analytics/reads.ts";
import { previousPeriod, todayUtc } from "../../analytics/days.ts";
import { csvLine } from "../../analytics/csv.ts";

const analytics = new Hono<AppEnv>();
analytics.use(requireSuperuserApi());
analytics.use(async function notCached(c, next) {
  await next();
  // What a superuser reads stays out of shared and browser caches.
  c.header("cache-control", "private, no-store");
});

analytics.get("/summary", async (c) => {
  const selection = parseRange(new URL(c.req.url).searchParams, todayUtc());
  const { current, previous } = await asViewer(c, (tx) => readSummary(tx, selection.from));
  return c.json({ from: selection.from, to: selection.to, current, previous });
});

async function series(c: Context<AppEnv>) {
  const params = new URL(c.req.url).searchParams;
  return await asViewer(c, async (tx) => {
    const metrics = (await readMetrics(tx)).map((m) => m.metric);
    const selection = parseSelection(params, metrics, todayUtc());
    const current = await readSeries(
      tx,
      selection.metric,
      selection.from,
      selection.to,
      selection.bucket,
    );
    const before = previousPeriod(selection.from, selection.to);
    const previous = selection.compare
      ? await readSeries(tx, selection.metric, before.from, before.to, selection.bucket)
      : null;
    return { selection, series: current, previous };
  });
}

analytics.get("/timeseries", async (c) => {
  const { selection, series: points, previous } = await series(c);
  return c.json({
    metric: selection.metric,
    bucket: selection.bucket,
    from: selection.from,
    to: selection.to,
    series: points,
    previous,
  });
});

analytics.get("/timeseries.csv", async (c) => {
  const { selection, series: points } = await series(c);
  const body = csvLine(["bucket_start", selection.metric]) +
    points.map((p) => csvLine([p.bucket, p.value])).join("");
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition":
      `attachment; filename="beacon-${selection.metric}-${selection.from}-${selection.to}-${selection.bucket}.csv"`,
  });
});

analytics.get("/breakdown", async (c) => {
  const params = new URL(c.req.url).searchParams;
  const selection = parseRange(params, todayUtc());
  const top = Number(params.get("top") ?? 10);
  if (!Number.isInteger(top) || top < 1 || top > 100) {
    throw new ParamError("top", "must be a whole number from 1 to 100");
  }
  const types = await asViewer(c, (tx) => readBreakdown(tx, selection.from, selection.to, top));
  return c.json({ from: selection.from, to: selection.to, types });
});

analytics.get("/events", async (c) => {
  const filters = parseEventFilters(new URL(c.req.url).searchParams);
  const page = await asViewer(c, (tx) => readEventsPage(tx, filters));
  return c.json(page);
});

const EVENT_CSV_HEADER = csvLine([
  "id",
  "timestamp",
  "received_at",
  "event_type",
  "user_id",
  "anonymous_id",
  "payload",
]);

function eventCsvLines(events: ExplorerEvent[]): string {
  return events.map((e) =>
    csvLine([e.id, e.timestamp, e.receivedAt, e.eventType, e.userId, e.anonymousId, e.payload])
  ).join("");
}

// Streamed a page at a time. The parameters are checked and the first page is read before
// the 200 goes out, so a bad request or a failing database is an error status; a failure
// after that aborts the response (the client sees a broken transfer, never a file that
// merely looks complete).
analytics.get("/events.csv", async (c) => {
  const filters = { ...parseEventFilters(new URL(c.req.url).searchParams), limit: 500 };
  const first = await asViewer(c, (tx) => readEventsPage(tx, filters));
  const encoder = new TextEncoder();
  let next: EventFilters["before"] = null;
  let pending: string | null = EVENT_CSV_HEADER + eventCsvLines(first.events);
  if (first.next !== null) next = first.events[first.events.length - 1];
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending !== null) {
        controller.enqueue(encoder.encode(pending));
        pending = null;
        return;
      }
      if (next === null) {
        controller.close();
        return;
      }
      try {
        const before = next;
        const page = await asViewer(c, (tx) => readEventsPage(tx, { ...filters, before }));
        controller.enqueue(encoder.encode(eventCsvLines(page.events)));
        next = page.next === null ? null : page.events[page.events.length - 1];
      } catch (error) {
        c.var.deps.log.error("CSV export failed", { request_id: c.var.requestId, error });
        controller.error(error);
      }
    },
  });
  return c.body(stream, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="beacon-events.csv"`,
  });
});

export default analytics;
