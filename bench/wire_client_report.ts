/**
 * The report's block for `bench/wire_client.ts`: ingestion on the embedded database without
 * and with a Postgres client connected on `BEACON_SQL_PORT`.
 *
 * @module
 */
import type { WireClientResult } from "./wire_client.ts";

/**
 * Renders the block (Markdown), or nothing when the run did not measure it.
 *
 * @param result The figures.
 * @returns The Markdown.
 */
export function wireClientSection(result: WireClientResult | undefined): string {
  if (!result) return "";
  const label = {
    none: "no client",
    idle: "an analyst's psql connected, idle",
    busy: "an analyst's psql querying `analytics.daily_overview` back to back",
  };
  const rows = result.conditions.map((c) =>
    `| ${label[c.client]} | ${Math.round(c.eventsPerSecond).toLocaleString("en-US")} | ${
      c.ratio.toFixed(2)
    } | ${c.clientQueriesPerSecond === undefined ? "—" : c.clientQueriesPerSecond.toFixed(1)} |`
  );
  return `### Postgres clients on the embedded database (BEACON_SQL_PORT)

HTTP ingestion into PGlite, batches of 500 (${
    result.events.toLocaleString("en-US")
  } events per run, median of ${result.runs} rounds, the conditions taking turns in each round):

| client | events/s | against no client | client queries/s |
| --- | --- | --- | --- |
${rows.join("\n")}
`;
}
