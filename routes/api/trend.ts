/**
 * Trends over the JSON API, as the signed-in user (RLS decides):
 * `GET /api/v1/analytics/trend` and `/trend.csv`, the definition in the query string as
 * {@linkcode parseTrend} documents (flat parameters, or `q=<JSON>`). A bad definition is a
 * 400 naming the field (e.g. `series[2].math`); a question too broad to answer within the
 * statement timeout is a 503 saying so.
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
import { ApiError } from "../../http/errors.ts";
import {
  asTrendParamError,
  isTimeout,
  parseTrend,
  readTrend,
  type TrendDefinition,
  type TrendRow,
} from "../../analytics/trend.ts";

/** The message when a trend runs out of time. */
export const TOO_BROAD =
  "this trend is too broad to answer in time: narrow the range, add filters, or break down by a tracked property";

const trend = new Hono<AppEnv>();
for (const path of ["/trend", "/trend.csv"]) {
  trend.use(path, requireSuperuserApi());
  trend.use(path, async function notCached(c, next) {
    await next();
    c.header("cache-control", "private, no-store");
  });
}

async function answer(c: Context<AppEnv>): Promise<{ d: TrendDefinition; rows: TrendRow[] }> {
  const d = parseTrend(new URL(c.req.url).searchParams, todayUtc());
  if (d === null) {
    throw new ParamError(
      "event1",
      "give at least one series (event1=<event type> or $all), or q=<JSON>",
    );
  }
  try {
    return { d, rows: await asViewer(c, (tx) => readTrend(tx, d)) };
  } catch (error) {
    if (isTimeout(error)) throw new ApiError(503, "too_broad", TOO_BROAD);
    throw asTrendParamError(error);
  }
}

trend.get("/trend", async (c) => {
  const { d, rows } = await answer(c);
  return c.json({ definition: d, rows });
});

trend.get("/trend.csv", async (c) => {
  const { d, rows } = await answer(c);
  const body = csvLine([
    "series",
    "label",
    "period",
    "bucket_index",
    "bucket_start",
    "breakdown_value",
    "value",
  ]) + rows.map((r) =>
    csvLine([
      r.series,
      r.label,
      r.period,
      r.bucketIndex,
      r.bucketStart,
      r.breakdownValue,
      r.value,
    ])
  ).join("");
  return c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="beacon-trend-${d.from}-${d.to}.csv"`,
  });
});

export default trend;
