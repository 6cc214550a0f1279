/**
 * Group commit through `POST /api/v1/events`, on PGlite and on PostgreSQL 15 (a database
 * shaped as the Supabase platform hands one over): concurrent single-event requests share a
 * transaction and are answered only after its commit; a failed or killed commit answers
 * every request of its group 503 and stores none of them, and nothing acknowledged is lost.
 *
 * The failure is injected at the commit (a thrown I/O error rolls the transaction back);
 * killed connections are `tests/group_commit_killed_connection_test.ts` (a Beacon process,
 * backends terminated in the INSERT and in the COMMIT) and
 * `tests/postgres_connection_loss_test.ts` (the adapter's guard against porsager/postgres#1208).
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { createGroupCommit } from "../ingest/group_commit.ts";
import type { StoreEvents } from "../ingest/store.ts";
import { createTestApp, TEST_INGEST_KEY } from "./support/app.ts";
import { deferred, holdCommits, timersThatNeverFire } from "./support/commit_gate.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";

/** How many single-event requests arrive together. */
const REQUESTS = 16;

/**
 * An app whose first request is held in its commit (transaction 0) until all the others
 * have reached the group commit; `hookSecond` runs before the second transaction commits.
 */
async function appWithHeldFirstCommit(db: Database) {
  const held = holdCommits(db);
  const first = held.hold(0);
  const grouped = createGroupCommit(held.db, { timers: timersThatNeverFire() });
  const allIn = deferred();
  let calls = 0;
  const storeEvents: StoreEvents = (events) => {
    const answer = grouped(events);
    if (++calls === REQUESTS) allIn.resolve();
    return answer;
  };
  const { app } = await createTestApp({ db, storeEvents });
  const ids = Array.from({ length: REQUESTS }, () => crypto.randomUUID());
  const post = async (id: string) =>
    await app.request("/api/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", apikey: TEST_INGEST_KEY },
      body: JSON.stringify({ event: "grouped_http", anonymous_id: "g", uuid: id }),
    });
  const answered: boolean[] = ids.map(() => false);
  /** Sends every request, the first alone; resolves once all are waiting on commits. */
  async function sendAll() {
    const responses = [post(ids[0])];
    await first.held;
    for (const id of ids.slice(1)) responses.push(post(id));
    responses.forEach((r, i) => r.then(() => (answered[i] = true)));
    await allIn.promise;
    return responses;
  }
  return { held, first, ids, answered, sendAll, post };
}

async function txidsOf(db: Database, ids: string[]): Promise<Map<string, string>> {
  const rows = await db.query<{ id: string; txid: string }>(
    "select id::text, txid::text from public.events where id = any($1::uuid[])",
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.txid]));
}

async function groupsAndAcknowledgesAfterCommit(db: Database) {
  const t = await appWithHeldFirstCommit(db);
  const responses = await t.sendAll();
  // Every request has reached the store while the first commit is held: none is answered.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(t.answered.filter(Boolean).length, 0, "no answer before the commit");
  if (db.kind === "postgres") {
    // From another connection (PGlite has one: it would wait for the held transaction).
    assert.equal((await txidsOf(db, t.ids)).size, 0, "nothing visible before the commit");
  }
  t.first.release();
  for (const res of await Promise.all(responses)) {
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accepted: 1, duplicates: 0, rejected: [] });
  }
  const seen = await txidsOf(db, t.ids);
  assert.equal(seen.size, REQUESTS, "every acknowledged event is stored");
  const firstTxid = seen.get(t.ids[0]);
  const others = new Set(t.ids.slice(1).map((id) => seen.get(id)));
  assert.equal(others.size, 1, `${REQUESTS - 1} requests in one transaction`);
  assert.ok(!others.has(firstTxid), "the first request committed alone, at once");
}

async function failedCommitFailsTheWholeGroup(
  db: Database,
  fail: () => Promise<void>,
  expected: { error: string; retryAfter: string },
) {
  const t = await appWithHeldFirstCommit(db);
  t.held.beforeCommit(1, fail);
  const responses = await t.sendAll();
  t.first.release();
  const answers = await Promise.all(responses);
  assert.equal(answers[0].status, 200, "the first request's own commit succeeded");
  await answers[0].body?.cancel();
  for (const res of answers.slice(1)) {
    const body = await res.json();
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.equal(body.error, expected.error, JSON.stringify(body));
    assert.equal(res.headers.get("retry-after"), expected.retryAfter);
  }
  const seen = await txidsOf(db, t.ids);
  assert.deepEqual([...seen.keys()], [t.ids[0]], "only the acknowledged event is stored");
  // The SDK's retry of the refused requests stores each once.
  const retries = await Promise.all(t.ids.map((id) => t.post(id)));
  const bodies = await Promise.all(retries.map((r) => r.json()));
  assert.deepEqual(bodies[0], { accepted: 0, duplicates: 1, rejected: [] });
  assert.ok(bodies.slice(1).every((b) => b.accepted === 1), JSON.stringify(bodies));
  assert.equal((await txidsOf(db, t.ids)).size, REQUESTS);
}

/** An injected failure at commit: an I/O error (SQLSTATE 58030), not an outage. */
function refuseCommit(): Promise<void> {
  return Promise.reject(Object.assign(new Error("injected: the commit fails"), { code: "58030" }));
}

/** One PGlite for both of its tests (each test reads only its own events). */
const lite = await openMigratedPglite();
Deno.test.afterAll(() => lite.close());

Deno.test("on PGlite, concurrent single-event requests share one transaction and are answered only after its commit", () =>
  groupsAndAcknowledgesAfterCommit(lite));

Deno.test("on PGlite, a failed group commit answers every request of the group 503 with retry-after and stores none of them", () =>
  failedCommitFailsTheWholeGroup(lite, refuseCommit, { error: "not_stored", retryAfter: "1" }));

const missing = await missingPostgres15();

/** Runs `fn` on a migrated PostgreSQL 15 database of its own. */
async function onPostgres15(fn: (db: Database) => Promise<void>) {
  assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
  const { pg, db } = await startMigratedPostgres15();
  try {
    await fn(db);
  } finally {
    await db.close();
    await pg.stop();
  }
}

Deno.test({
  name:
    "on PostgreSQL 15, concurrent single-event requests share one transaction and are answered only after its commit",
  ignore: skipWithoutPostgres15(missing),
  fn: () => onPostgres15(groupsAndAcknowledgesAfterCommit),
});

Deno.test({
  name:
    "on PostgreSQL 15, a failed group commit answers every request of the group 503 with retry-after and stores none of them",
  ignore: skipWithoutPostgres15(missing),
  fn: () =>
    onPostgres15((db) =>
      failedCommitFailsTheWholeGroup(db, refuseCommit, {
        error: "not_stored",
        retryAfter: "1",
      })
    ),
});
