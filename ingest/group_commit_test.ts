import assert from "node:assert/strict";
import { openMigratedPglite } from "../tests/support/database.ts";
import { holdCommits, timersThatNeverFire } from "../tests/support/commit_gate.ts";
import type { CheckedEvent } from "./event.ts";
import { createGroupCommit } from "./group_commit.ts";

const db = await openMigratedPglite();
Deno.test.afterAll(() => db.close());

function event(
  index: number,
  eventType: string,
  more: Partial<CheckedEvent> = {},
): CheckedEvent {
  return {
    index,
    id: crypto.randomUUID(),
    eventType,
    userId: null,
    anonymousId: "group-unit",
    properties: {},
    timestamp: null,
    ...more,
  };
}

async function txids(ids: string[]): Promise<Map<string, string>> {
  const rows = await db.query<{ id: string; txid: string }>(
    "select id::text, txid::text from public.events where id = any($1::uuid[])",
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.txid]));
}

/**
 * Holds a lone first request in its commit, lets `requests` join the next group, releases
 * the first and returns every answer (the first's last).
 */
async function storeAsOneGroup(requests: CheckedEvent[][]) {
  const held = holdCommits(db);
  const first = held.hold(0);
  const store = createGroupCommit(held.db, { timers: timersThatNeverFire() });
  const lone = store([event(0, "group_opener")]);
  await first.held;
  const answers = requests.map((events) => store(events));
  first.release();
  return [...await Promise.all(answers), await lone];
}

Deno.test("a lone request commits at once, alone in its transaction, and starts no window timer", async () => {
  const timers = timersThatNeverFire();
  const store = createGroupCommit(db, { timers, windowMs: 60_000 });
  const one = event(0, "lone");
  assert.deepEqual(await store([one]), { accepted: 1, duplicates: 0, rejected: [] });
  assert.equal(timers.started, 0);
  const [{ n }] = await db.query<{ n: number }>(
    `select count(*)::int as n from public.events
      where txid = (select txid from public.events where id = $1)`,
    [one.id],
  );
  assert.equal(n, 1);
});

Deno.test("requests arriving while a commit runs are stored in one transaction together", async () => {
  const requests = Array.from({ length: 10 }, (_, i) => [event(0, `joined_${i}`)]);
  const answers = await storeAsOneGroup(requests);
  assert.ok(answers.every((a) => a.accepted === 1));
  const seen = await txids(requests.map(([e]) => e.id));
  assert.equal(seen.size, 10);
  assert.equal(new Set(seen.values()).size, 1);
});

Deno.test("per-event rejections in a group come back to their own request and index; a duplicate across requests is stored once", async () => {
  const shared = crypto.randomUUID();
  const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
  await db.query(
    "insert into beacon.settings (key, value) values ('raw_retention_days', '60') on conflict (key) do update set value = excluded.value",
  );
  const a = [
    event(0, "mixed_ok", { id: shared }),
    event(1, "mixed_big", { properties: { a: Array(15_000).fill(0) } }),
  ];
  const b = [event(0, "mixed_ok"), event(1, "mixed_old", { timestamp: old }), event(2, "mixed_ok")];
  const c = [
    event(0, "mixed_ok", { id: shared }),
    event(1, "mixed_big", { properties: { a: Array(15_000).fill(0) } }),
    event(2, "mixed_ok"),
  ];
  const [ra, rb, rc] = await storeAsOneGroup([a, b, c]).finally(() =>
    db.query("delete from beacon.settings where key = 'raw_retention_days'")
  );
  assert.deepEqual([ra.accepted, ra.duplicates], [1, 0]);
  assert.deepEqual(ra.rejected.map((r) => [r.index, r.field]), [[1, "properties"]]);
  assert.deepEqual([rb.accepted, rb.duplicates], [2, 0]);
  assert.deepEqual(rb.rejected.map((r) => [r.index, r.field]), [[1, "timestamp"]]);
  assert.match(rb.rejected[0].reason, /older than the raw-event retention/);
  assert.deepEqual([rc.accepted, rc.duplicates], [1, 1]);
  assert.deepEqual(rc.rejected.map((r) => [r.index, r.field]), [[1, "properties"]]);
  const seen = await txids([...a, ...b, ...c].map((e) => e.id));
  assert.equal(seen.size, 4, "the shared id once, b's first and last, c's last");
  assert.equal(new Set(seen.values()).size, 1);
});

Deno.test("a row refused by a check constraint in a group is rejected in its own request only; the others are stored", async () => {
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const a = [event(0, "check_ok"), event(1, "check_ok")];
  const b = [event(0, "check_ok"), event(1, "check_refused", { timestamp: future })];
  const c = [event(0, "check_refused", { timestamp: future })];
  const [ra, rb, rc] = await storeAsOneGroup([a, b, c]);
  assert.deepEqual(ra, { accepted: 2, duplicates: 0, rejected: [] });
  assert.equal(rb.accepted, 1);
  assert.deepEqual(rb.rejected.map((r) => [r.index, r.field]), [[1, "timestamp"]]);
  assert.match(rb.rejected[0].reason, /events_timestamp_not_future/);
  assert.equal(rc.accepted, 0);
  assert.deepEqual(rc.rejected.map((r) => [r.index, r.field]), [[0, "timestamp"]]);
  const seen = await txids([...a, ...b, ...c].map((e) => e.id));
  assert.deepEqual([...seen.keys()].sort(), [a[0].id, a[1].id, b[0].id].sort());
});

Deno.test("a group reaching the size cap is committed apart from the requests after it", async () => {
  const held = holdCommits(db);
  const first = held.hold(0);
  const store = createGroupCommit(held.db, { timers: timersThatNeverFire(), maxEvents: 4 });
  const lone = store([event(0, "cap_opener")]);
  await first.held;
  const requests = Array.from({ length: 6 }, (_, i) => [event(0, `capped_${i}`), event(1, "x")]);
  const answers = requests.map((events) => store(events));
  first.release();
  await Promise.all([lone, ...answers]);
  const seen = await txids(requests.flat().map((e) => e.id));
  const groups = new Map<string, number>();
  for (const txid of seen.values()) groups.set(txid, (groups.get(txid) ?? 0) + 1);
  assert.deepEqual([...groups.values()], [4, 4, 4]);
});
