/**
 * `deno run -A bench/remeasure.ts SECTION...`: measures some sections of `deno task bench`
 * again on their own, replaces them in bench/results.json (keeping the other sections of
 * the full run), and writes BENCHMARKS.md again, which then says which sections were measured
 * again, at which commit. For a change that touches one section, when the full run (an hour
 * at 10 M events) does not fit.
 *
 * Sections: `groupCommit` (one event per request at 1, 8 and 64 clients, with and without
 * group commit, as in the full run) and `liveHours` (today's live part at BENCH_EVENTS_MILLIONS
 * million events, default 10, as in the full run).
 *
 * @module
 */
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";
import { queryAsUser } from "../database/act_as.ts";
import { benchGroupCommit } from "./group_commit.ts";
import { benchLiveHours } from "./live.ts";
import { generateEventChunk, generateUsers } from "./data.ts";
import { saveResults } from "./report.ts";
import { preparePartitions } from "./size.ts";
import { BENCH_POSTGRES_SETTINGS, commitMeasured, startBenchBeacon } from "./harness.ts";

const SECTIONS = ["groupCommit", "liveHours"] as const;
type Section = typeof SECTIONS[number];

async function measure(section: Section): Promise<unknown> {
  const { pg, db } = await startOwnMigratedPostgres15({ settings: { ...BENCH_POSTGRES_SETTINGS } });
  try {
    if (section === "groupCommit") {
      const beacon = await startBenchBeacon({ kind: "postgres", url: pg.url });
      try {
        return await benchGroupCommit({
          dbUrl: pg.url,
          beaconUrl: beacon.url,
          ingestKey: beacon.ingestKey,
        });
      } finally {
        await beacon.shutdown();
      }
    }
    const millions = Number(Deno.env.get("BENCH_EVENTS_MILLIONS") ?? 10);
    await preparePartitions(db);
    await generateUsers(db, 100_000);
    for (let chunk = 0; chunk < millions; chunk++) await generateEventChunk(db, chunk, 100_000);
    // As bench/run.ts leaves the database before its live part: rolled up, analyzed, the
    // hourly job run, today's persons in the bitmaps.
    await db.query("vacuum analyze public.events");
    await db.query("select analytics.run_daily_aggregation()");
    await db.query("vacuum analyze");
    await db.query("select analytics.run_hourly_rollup()");
    await db.query("select analytics.extend_person_bits()");
    const [{ id }] = await db.query<{ id: string }>(
      `select beacon.create_user('bench-viewer-' || gen_random_uuid() || '@bench.test', 'bench-password', true)::text as id`,
    );
    return await benchLiveHours(
      db,
      // The live baselines read whole days: no 8 s dashboard timeout here (as bench/run.ts).
      (sql) => queryAsUser(db, { sub: id }, sql, { statementTimeoutMs: 600_000 }),
      `${millions} M`,
      pg.adminUrl,
    );
  } finally {
    await db.close();
    await pg.stop();
  }
}

if (import.meta.main) {
  const sections = Deno.args as Section[];
  if (sections.length === 0 || sections.some((s) => !SECTIONS.includes(s))) {
    console.error(`usage: deno run -A bench/remeasure.ts ${SECTIONS.join("|")}...`);
    Deno.exit(2);
  }
  const resultsFile = new URL("./results.json", import.meta.url);
  const results = JSON.parse(await Deno.readTextFile(resultsFile));
  for (const section of sections) {
    console.error(`[remeasure] ${section}`);
    results[section] = await measure(section);
  }
  // Earlier re-measures keep only the sections not measured now.
  results.remeasured = [
    ...(results.remeasured ?? []).map((x: { sections: string[] }) => ({
      ...x,
      sections: x.sections.filter((s) => !sections.includes(s as Section)),
    })).filter((x: { sections: string[] }) => x.sections.length > 0),
    { sections, commit: await commitMeasured(), date: new Date().toISOString() },
  ];
  const reported = await saveResults(results, {
    resultsFile,
    reportFile: new URL("../BENCHMARKS.md", import.meta.url),
  });
  if (!reported) Deno.exitCode = 1;
}
