/**
 * Postgres clients on the embedded database: Debian's psql against a running embedded
 * Beacon on BEACON_SQL_PORT (the password, analysts' reads, ingestion alongside, the idle
 * bound, and a client's session state kept apart from the app's).
 */
import assert from "node:assert/strict";
import { findPsql, openPsqlSession, runPsql } from "./support/psql.ts";
import { type RunningBeacon, startBeacon } from "../app/start.ts";
import { defineConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";

const INGEST_KEY = "bk_sql_port_test_key_0123456789";
const psql = await findPsql();
const ignore = !psql && Deno.env.get("CI") !== "true";
if (ignore) {
  console.warn("skipped: psql missing. Install with: apt-get install -y postgresql-client-15");
}

async function start(dataDir: string, banner: string[]): Promise<RunningBeacon> {
  return await startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database: { kind: "embedded", dataDir },
      seedDemoData: false,
      nightly: "never",
      ingestKey: INGEST_KEY,
      sql: { port: 0, idleInTransactionMs: 1500 },
    }),
    { log: silentLogger, banner: (line) => banner.push(line) },
  );
}

async function ingest(beacon: RunningBeacon, label: string, n: number, timestamp?: string) {
  const batch = Array.from({ length: n }, (_, i) => ({
    event: label,
    anonymous_id: `visitor-${i % 5}`,
    uuid: crypto.randomUUID(),
    ...(timestamp ? { timestamp } : {}),
  }));
  const res = await fetch(`${beacon.url}/api/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", apikey: INGEST_KEY },
    body: JSON.stringify({ batch }),
  });
  return { status: res.status, body: await res.json() };
}

async function stored(beacon: RunningBeacon, label: string): Promise<number> {
  const [{ n }] = await beacon.db.query<{ n: number }>(
    "select count(*)::int as n from public.events where event_type = $1",
    [label],
  );
  return n;
}

Deno.test({
  name: "Postgres clients on the embedded database (BEACON_SQL_PORT)",
  ignore,
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-sql-port-" });
  let beacon: RunningBeacon | undefined;
  try {
    const firstBanner: string[] = [];
    beacon = await start(dir, firstBanner);
    const shown = firstBanner.find((line) => line.includes("postgres password (generated now"));
    const password = shown?.split(": ").at(-1) ?? "";
    await t.step("the first start generates a password and prints it once", () => {
      assert.ok(shown, firstBanner.join("\n"));
      assert.ok(password.length >= 20);
      assert.ok(firstBanner.some((line) => line.includes(`127.0.0.1:${beacon!.sql!.port}`)));
    });
    await beacon.shutdown();
    const secondBanner: string[] = [];
    beacon = await start(dir, secondBanner);
    await t.step(
      "the generated password stays the same across restarts and is not shown again",
      async () => {
        assert.ok(!secondBanner.some((line) => line.includes(password)), secondBanner.join("\n"));
        const result = await runPsql(psql!, beacon!.sql!.port, password, "select 41 + 1");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), "42");
      },
    );
    const running = beacon;
    await runSteps(t, running, password);
  } finally {
    await beacon?.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

async function runSteps(t: Deno.TestContext, beacon: RunningBeacon, password: string) {
  await t.step(
    "psql reads analytics.daily_overview on BEACON_SQL_PORT with the password, as analyst",
    async () => {
      {
        const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
        assert.equal((await ingest(beacon, "page_view", 7, `${yesterday}T12:00:00Z`)).status, 200);
        await beacon.db.query("select analytics.run_daily_aggregation()");
        const expected = await beacon.db.query<{ day: string; events: number }>(
          "select day::text, events::int from analytics.daily_overview order by day",
        );
        assert.ok(expected.some((row) => row.day === yesterday && row.events === 7));
        const result = await runPsql(
          psql!,
          beacon.sql!.port,
          password,
          "set role analyst; select current_user, day, events from analytics.daily_overview order by day",
        );
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(
          result.stdout.trim().split("\n").filter((line) => line.includes("|")),
          expected.map((row) => `analyst|${row.day}|${row.events}`),
        );
      }
    },
  );

  await t.step(
    "a client signing in as user analyst starts in role analyst; an unknown user is refused",
    async () => {
      const asAnalyst = await runPsql(
        psql!,
        beacon.sql!.port,
        password,
        "select current_user",
        "analyst",
      );
      assert.equal(asAnalyst.code, 0, asAnalyst.stderr);
      assert.equal(asAnalyst.stdout.trim(), "analyst");
      const unknown = await runPsql(psql!, beacon.sql!.port, password, "select 1", "nobody_here");
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /role "nobody_here" does not exist/);
    },
  );

  await t.step("psql without the password, or with a wrong one, is refused", async () => {
    {
      const none = await runPsql(psql!, beacon.sql!.port, undefined, "select 1");
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no password supplied/);
      const wrong = await runPsql(psql!, beacon.sql!.port, "not-the-password", "select 1");
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /password authentication failed/);
      assert.doesNotMatch(wrong.stdout, /1/);
    }
  });

  await t.step(
    "ingestion succeeds while a psql client holds a connection open as analyst",
    async () => {
      const session = openPsqlSession(psql!, beacon.sql!.port, password);
      try {
        assert.equal(
          (await session.send("set role analyst; set search_path = ''; select current_user;"))
            .trim(),
          "SET\nSET\nanalyst",
        );
        const res = await ingest(beacon, "while_connected", 50);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.accepted, 50);
        assert.equal(await stored(beacon, "while_connected"), 50);
        // The client's role and search_path stayed its own, and never became the app's.
        const [app] = await beacon.db.query<{ who: string; path: string }>(
          "select current_user::text as who, current_setting('search_path') as path",
        );
        assert.deepEqual(app, { who: "postgres", path: "public" });
        assert.equal(
          (await session.send("select current_user, current_setting('search_path');")).trim(),
          `analyst|""`,
        );
        // Read-only under RLS: an analyst cannot write.
        await session.send(
          "\\set ON_ERROR_STOP 0\ninsert into public.events (event_type) values ('x');",
        );
        assert.match(session.stderr(), /permission denied/);
      } finally {
        await session.close();
      }
    },
  );

  await t.step(
    "a client's open transaction neither swallows the app's writes nor blocks ingestion past the idle bound",
    async () => {
      const session = openPsqlSession(psql!, beacon.sql!.port, password);
      try {
        await session.send(
          "begin; insert into beacon.settings (key, value) values ('wire_test', 'uncommitted');",
        );
        // Ingestion waits for the client's turn to end; the bound ends it.
        const res = await ingest(beacon, "while_in_transaction", 20);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(await stored(beacon, "while_in_transaction"), 20);
        // The client was terminated and its transaction rolled back; the app's rows stayed.
        const [{ n }] = await beacon.db.query<{ n: number }>(
          "select count(*)::int as n from beacon.settings where key = 'wire_test'",
        );
        assert.equal(n, 0);
        await session.send("select 1;").catch(() => {});
        assert.match(session.stderr(), /idle-in-transaction timeout/);
      } finally {
        await session.close();
      }
    },
  );

  await t.step(
    "a client's rollback does not undo events ingested during its transaction",
    async () => {
      const session = openPsqlSession(psql!, beacon.sql!.port, password);
      try {
        await session.send("begin; select 1;");
        const ingesting = ingest(beacon, "during_client_transaction", 10);
        await session.send("rollback;");
        const res = await ingesting;
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(await stored(beacon, "during_client_transaction"), 10);
      } finally {
        await session.close();
      }
    },
  );
}
