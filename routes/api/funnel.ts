/**
 * Funnels over the JSON API, as the signed-in user (RLS decides):
 * `GET /api/v1/analytics/funnel` (the steps, their breakdown, and the named funnels),
 * `/funnel.csv`, and `/funnel/dropoffs?dropped_at=N&limit=100` (the persons who reached step
 * N-1 but not N). The definition is read from the URL as {@linkcode parseFunnel} documents;
 * a bad one is a 400 naming the parameter.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../_deps.ts";
import { requireSuperuserApi } from "../_guards.tsx";
import { asViewer } from "../_viewer.ts";
import { ParamError } from "../../analytics/params.ts";
import { todayUtc } from "../../analytics/days.ts";
import { csvLine } from "../../analytics/csv.ts";
import {
  type FunnelDefinition,
  NAMED_FUNNELS,
  readDropoffs,
  readFunnel,
} from "../../analytics/funnel.ts";
import { asParamError, parseFunnel } from "../../analytics/funnel_params.ts";

const funnel = new Hono<AppEnv>();
for (const path of ["/funnel", "/funnel.csv", "/funnel/*"]) funnel.use(path, requireSuperuserApi());
for (const path of ["/funnel", "/funnel.csv", "/funnel/*"]) {
  funnel.use(path, async function notCached(c, next) {
    await next();
    c.header("cache-control", "private, no-store");
  });
}

function definition(c: Context<AppEnv>): FunnelDefinition {
  const d = parseFunnel(new URL(c.req.url).searchParams, todayUtc());
  if (d === null) {
    throw new ParamError(
      "step",
      "give 2 to 10 steps (step=<event type>, repeated), or funnel=<name>",
    );
  }
  return d;
}

async function asViewerChecked<T>(
  c: Context<AppEnv>,
  fn: Parameters<typeof asViewer<T>>[1],
): Promise<T> {
  try {
    return await asViewer(c, fn);
  } catch (error) {
    throw asParamError(error);
  }
}

funnel.get("/funnel", async (c) => {
  const d = definition(c);
  const rows = await asViewerChecked(c, (tx) => readFunnel(tx, d));
  return c.json({
    definition: d,
    steps: rows.filter((r) => r.breakdownRank === 0),
    breakdown: d.breakdown === null ? null : rows.filter((r) => r.breakdownRank > 0),
    named: NAMED_FUNNELS.map((f) => f.name),
  });
});

funnel.get("/funnel.csv", async (c) => {
  const d = definition(c);
  const rows = await asViewerChecked(c, (tx) => readFunnel(tx, d));
  const body = csvLine([
    "breakdown_value",
    "step",
    "event_type",
    "persons",
    "conversion_from_previous",
    "conversion_from_first",
    "median_seconds_from_previous",
    "p90_seconds_from_previous",
  ]) + rows.map((r) =>
    csvLine([
      r.breakdownRank === 0 ? "(all)" : r.breakdownValue,
      r.step,
      r.eventType,
      r.persons,
      r.conversionFromPrevious,
      r.conversionFromFirst,
      r.medianSeconds,
      r.p90Seconds,
    ])
  ).join("");
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="beacon-funnel-${d.from}-${d.to}.csv"`,
  });
});

funnel.get("/funnel/dropoffs", async (c) => {
  const d = definition(c);
  const params = new URL(c.req.url).searchParams;
  const droppedAt = Number(params.get("dropped_at") ?? 2);
  if (!Number.isInteger(droppedAt) || droppedAt < 2 || droppedAt > d.steps.length) {
    throw new ParamError("dropped_at", `must be a step from 2 to ${d.steps.length}`);
  }
  const limit = Number(params.get("limit") ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ParamError("limit", "must be a whole number from 1 to 1000");
  }
  const persons = await asViewerChecked(c, (tx) => readDropoffs(tx, d, droppedAt, limit));
  return c.json({ definition: d, dropped_at: droppedAt, persons });
});

export default funnel;
