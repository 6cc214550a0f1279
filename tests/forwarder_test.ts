/**
 * The forwarder: every event reaches every plugin, in delivery order, at least once;
 * transactions that commit out of order are not skipped; failures are retried with
 * backoff without holding up other plugins; a restart resumes from the stored cursor.
 */
import assert from "node:assert/strict";
import { backoffMs, createForwarder, type Forwarder } from "../plugins/forwarder.ts";
import type { BeaconPlugin, PluginEvent } from "../plugins/mod.ts";
import type { Database } from "../database/mod.ts";
import { openPostgres } from "../database/postgres.ts";
import { silentLogger } from "../log/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { runSteps, type Steps, waitFor } from "./support/steps.ts";

const FAST = {
  batchSize: 50,
  pollIntervalMs: 20,
  minBackoffMs: 10,
  maxBackoffMs: 80,
};

/** A plugin that records what it gets and fails while `failing()` says so. */
function recorder(name: string, failing: () => boolean = () => false) {
  const received: PluginEvent[] = [];
  let calls = 0;
  let shutdowns = 0;
  const plugin: BeaconPlugin = {
    name,
    onEvents(events) {
      calls++;
      if (failing()) return Promise.reject(new Error(`${name} is down`));
      received.push(...events);
      return Promise.resolve();
    },
    shutdown() {
      shutdowns++;
    },
  };
  return { plugin, received, calls: () => calls, shutdowns: () => shutdowns };
}

async function insertEvents(
  db: Database,
  prefix: string,
  n: number,
): Promise<void> {
  await db.query(
    `insert into public.events (event_type, anonymous_id, payload)
     select $1, 'visitor', jsonb_build_object('n', g) from generate_series(1, $2) g`,
    [prefix, n],
  );
}

function start(db: Database, plugins: BeaconPlugin[]): Forwarder {
  const forwarder = createForwarder({
    db,
    plugins,
    config: FAST,
    log: silentLogger,
  });
  forwarder.start();
  return forwarder;
}

Deno.test("backoff doubles from the minimum up to the maximum", () => {
  const config = {
    batchSize: 1,
    pollIntervalMs: 1,
    minBackoffMs: 1000,
    maxBackoffMs: 60_000,
  };
  assert.deepEqual([1, 2, 3, 4, 7, 8, 20].map((n) => backoffMs(n, config)), [
    1000,
    2000,
    4000,
    8000,
    60_000,
    60_000,
    60_000,
  ]);
});

async function deliversEverythingInOrder(db: Database) {
  await insertEvents(db, "before_start", 120);
  const ok = recorder("recorder");
  const forwarder = start(db, [ok.plugin]);
  try {
    await waitFor("120 events", () => ok.received.length >= 120);
    await insertEvents(db, "after_start", 30);
    forwarder.wake();
    await waitFor("150 events", () => ok.received.length >= 150);
    assert.deepEqual(
      ok.received.map((e) => `${e.event}:${e.properties.n}`),
      [
        ...Array.from({ length: 120 }, (_, i) => `before_start:${i + 1}`),
        ...Array.from({ length: 30 }, (_, i) => `after_start:${i + 1}`),
      ],
    );
    const [status] = await forwarder.status();
    assert.equal(status.lag, 0);
    assert.equal(status.delivered, 150);
  } finally {
    await forwarder.stop();
  }
  assert.equal(ok.shutdowns(), 1, "stopping shuts the plugin down");
}

async function retriesAndIsolatesFailures(db: Database) {
  const [{ n: existing }] = await db.query<{ n: number }>(
    "select count(*)::int as n from public.events",
  );
  let down = true;
  const flaky = recorder("flaky", () => down);
  const healthy = recorder("healthy");
  const broken = recorder("broken", () => true);
  const forwarder = start(db, [flaky.plugin, healthy.plugin, broken.plugin]);
  try {
    await insertEvents(db, "during_outage", 40);
    forwarder.wake();
    const total = existing + 40;
    await waitFor(
      "the healthy plugin to get everything",
      () => healthy.received.length >= total,
    );
    await waitFor("a few failed attempts", () => flaky.calls() >= 3);
    const during = await forwarder.status();
    const flakyStatus = during.find((s) => s.name === "flaky")!;
    assert.ok(flakyStatus.failures >= 1);
    assert.equal(flakyStatus.lastError, "flaky is down");
    assert.equal(flakyStatus.lag, total);
    down = false;
    await waitFor(
      "the flaky plugin to catch up",
      () => flaky.received.length >= total,
    );
    assert.deepEqual(
      flaky.received.map((e) => e.id),
      healthy.received.map((e) => e.id),
      "after recovering, the flaky plugin got the same events in the same order",
    );
    const after = await forwarder.status();
    assert.equal(after.find((s) => s.name === "flaky")!.failures, 0);
    assert.equal(
      after.find((s) => s.name === "broken")!.lag,
      total,
      "the broken plugin holds nothing up",
    );
  } finally {
    await forwarder.stop();
  }
}

async function resumesAfterRestart(db: Database) {
  const first = recorder("restartable");
  let forwarder = start(db, [first.plugin]);
  const [{ n: existing }] = await db.query<{ n: number }>(
    "select count(*)::int as n from public.events",
  );
  await waitFor("the first delivery", () => first.received.length >= existing);
  await forwarder.stop();
  await insertEvents(db, "while_stopped", 25);
  const second = recorder("restartable");
  forwarder = start(db, [second.plugin]);
  try {
    await waitFor(
      "the events stored while stopped",
      () => second.received.length >= 25,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      second.received.map((e) => e.event),
      Array(25).fill("while_stopped"),
    );
  } finally {
    await forwarder.stop();
  }
}

/** The steps both databases run, in this order: each counts on the events of the ones before. */
function onBothDatabases(db: Database): Steps {
  return {
    "every event reaches the plugin, in order": () => deliversEverythingInOrder(db),
    "a failing plugin is retried and holds up no other": () => retriesAndIsolatesFailures(db),
    "a restart resumes from the stored cursor": () => resumesAfterRestart(db),
  };
}

Deno.test("forwarder on PGlite: in order, retried, isolated, resumed after a restart", async (t) => {
  const db = await openMigratedPglite();
  try {
    await runSteps(t, onBothDatabases(db));
  } finally {
    await db.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name: "forwarder on PostgreSQL 15: out-of-order commits, failures, restarts",
  ignore: skipWithoutPostgres15(missing),
  async fn(t) {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    try {
      await runSteps(t, onBothDatabases(db));
      await t.step(
        "an event whose transaction commits after a later one is not skipped",
        async () => {
          const plugin = recorder("ordering");
          const forwarder = start(db, [plugin.plugin]);
          const slow = openPostgres(pg.url, { max: 1 });
          const quick = openPostgres(pg.url, { max: 1 });
          try {
            const [{ n: existing }] = await db.query<{ n: number }>(
              "select count(*)::int as n from public.events",
            );
            await waitFor(
              "the existing events",
              () => plugin.received.length >= existing,
            );
            // The slow transaction takes its seq and txid first, the quick one commits first.
            await slow.exec("begin");
            const [slowRow] = await slow.query<{ seq: string }>(
              "insert into public.events (event_type, anonymous_id) values ('slow', 'v') returning seq::text",
            );
            await quick.exec("begin");
            const [quickRow] = await quick.query<{ seq: string }>(
              "insert into public.events (event_type, anonymous_id) values ('quick', 'v') returning seq::text",
            );
            await quick.exec("commit");
            assert.ok(
              Number(slowRow.seq) < Number(quickRow.seq),
              "the slow transaction took the earlier seq",
            );
            forwarder.wake();
            await new Promise((r) => setTimeout(r, 300));
            assert.equal(
              plugin.received.length,
              existing,
              "the committed later event waits while the earlier transaction is still open",
            );
            await slow.exec("commit");
            forwarder.wake();
            await waitFor(
              "both events",
              () => plugin.received.length >= existing + 2,
            );
            assert.deepEqual(
              plugin.received.slice(existing).map((e) => e.event),
              ["slow", "quick"],
            );
          } finally {
            await slow.close();
            await quick.close();
            await forwarder.stop();
          }
        },
      );
    } finally {
      await db.close();
      await pg.stop();
    }
  },
});
