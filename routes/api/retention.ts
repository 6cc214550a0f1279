/**
 * The person reports' API, answered as the signed-in user so RLS decides:
 * `GET /api/v1/analytics/retention`, `/lifecycle`, `/stickiness`, `/adoption`, and `.csv`
 * of each. A bad parameter (in the URL, or refused by the SQL function) is a 400
 * `{"error": "invalid_parameter", "field", "message"}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { asViewer } from "../_viewer.ts";
import { todayUtc } from "../../analytics/days.ts";
import { csvLine } from "../../analytics/csv.ts";
import { parseRetention, readRetention } from "../../analytics/retention.ts";
import {
  parseLifecycle,
  readAdoption,
  readLifecycle,
  readStickiness,
} from "../../analytics/lifecycle.ts";

const reports = new Hono<AppEnv>();
// Mounted beside routes/api/analytics.ts under /api/v1/analytics: the guards are scoped to
// these paths, so neither file's middleware runs twice for the other's routes.
const PATHS = ["retention", "lifecycle", "stickiness", "adoption"].flatMap((r) => [
  `/${r}`,
  `/${r}.csv`,
]);
for (const path of PATHS) {
  reports.use(path, requireSuperuserApi());
  reports.use(path, async function notCached(c, next) {
    await next();
    c.header("cache-control", "private, no-store");
  });
}

function params(c: Context<AppEnv>): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

function csv(c: Context<AppEnv>, name: string, header: string[], rows: unknown[][]) {
  const body = csvLine(header) + rows.map((r) => csvLine(r)).join("");
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="beacon-${name}.csv"`,
  });
}

async function retention(c: Context<AppEnv>) {
  const definition = parseRetention(params(c), todayUtc());
  const cells = await asViewer(c, (tx) => readRetention(tx, definition));
  return { definition, cells };
}

reports.get("/retention", async (c) => c.json(await retention(c)));
reports.get("/retention.csv", async (c) => {
  const { definition: d, cells } = await retention(c);
  return csv(
    c,
    `retention-${d.period}-${d.from}`,
    ["cohort_start", "cohort_size", "period_offset", "retained", "percentage"],
    cells.map((
      x,
    ) => [x.cohortStart ?? "average", x.cohortSize, x.offset, x.retained, x.percentage]),
  );
});

async function lifecycle(c: Context<AppEnv>) {
  const definition = parseLifecycle(params(c), todayUtc());
  const buckets = await asViewer(c, (tx) => readLifecycle(tx, definition));
  return { definition, buckets };
}

reports.get("/lifecycle", async (c) => c.json(await lifecycle(c)));
reports.get("/lifecycle.csv", async (c) => {
  const { definition: d, buckets } = await lifecycle(c);
  return csv(
    c,
    `lifecycle-${d.from}-${d.to}-${d.bucket}`,
    ["bucket_start", "new", "returning", "resurrecting", "dormant"],
    buckets.map((b) => [b.start, b.new, b.returning, b.resurrecting, b.dormant]),
  );
});

async function stickiness(c: Context<AppEnv>) {
  const definition = parseLifecycle(params(c), todayUtc());
  const rows = await asViewer(c, (tx) => readStickiness(tx, definition));
  return { definition, rows };
}

reports.get("/stickiness", async (c) => c.json(await stickiness(c)));
reports.get("/stickiness.csv", async (c) => {
  const { definition: d, rows } = await stickiness(c);
  return csv(
    c,
    `stickiness-${d.from}-${d.to}-${d.period}`,
    ["period_start", "days", "persons"],
    rows.map((r) => [r.periodStart ?? "all", r.days, r.persons]),
  );
});

async function adoption(c: Context<AppEnv>) {
  const definition = parseLifecycle(params(c), todayUtc());
  const rows = await asViewer(c, (tx) => readAdoption(tx, definition));
  return { definition, rows };
}

reports.get("/adoption", async (c) => c.json(await adoption(c)));
reports.get("/adoption.csv", async (c) => {
  const { definition: d, rows } = await adoption(c);
  return csv(
    c,
    `adoption-${d.from}-${d.to}`,
    ["event_type", "persons", "active_persons", "percentage"],
    rows.map((r) => [r.eventType, r.persons, r.activePersons, r.percentage]),
  );
});

export default reports;
