/**
 * The group commit's connection killed mid-commit, under load, against a Beacon running as
 * its own process (`main.ts`, so a crash of the driver would end it, as in production):
 * 64 clients send one event per request and, like the SDKs, send a refused event again
 * until it is acknowledged: half of them under the same id (`uuid`), half without one (the
 * server makes an id each time, so only a marker in the properties tells a second copy).
 * Meanwhile the backends of Beacon's commits are terminated (`pg_terminate_backend` from
 * another session) twice over:
 * - **in the INSERT**: the test holds `public.events` locked, so each group's insert waits,
 *   and the waiting backends are killed (their transactions roll back);
 * - **in the COMMIT**: the server waits at every commit for a standby that does not exist
 *   (`synchronous_standby_names`), and the backends waiting there are killed (their
 *   transactions are already committed locally, but Beacon's connection is gone before the
 *   answer): Beacon asks `pg_xact_status` and acknowledges them.
 * Then: the process is still up, each request of a killed INSERT was answered 503 with
 * `retry-after`, each request of a killed COMMIT 200 (never anything else, never a 200 for
 * an event not stored), every event sent is stored exactly once (those sent without an id
 * included), and ingestion goes on after the connections come back.
 */
import assert from "node:assert/strict";
import { openPostgres } from "../database/postgres.ts";
import type { Database } from "../database/mod.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";
import { startOwnMigratedPostgres15 } from "./support/database.ts";
import { waitFor } from "./support/steps.ts";

const KEY = "bk_killed_commit_key_0123456789";
const CLIENTS = 64;
/** Kill rounds per phase: each round terminates every backend then waiting. */
const ROUNDS = 3;
const missing = await missingPostgres15();

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Beacon as `deno task start` runs it, on a PostgreSQL URL. */
async function spawnBeacon(databaseUrl: string) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      BEACON_INGEST_KEY: KEY,
      BEACON_SEED: "false",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => (exited = s));
  const output = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]).then(([out, err]) => out + err);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("Beacon answers health", async () => {
    if (exited) throw new Error(`Beacon exited at start:\n${await output}`);
    try {
      const res = await fetch(`${url}/api/v1/health`);
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }, { timeoutMs: 60_000, intervalMs: 200 });
  return {
    url,
    exited: () => exited,
    output,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await status;
      return await output;
    },
  };
}

/** What the clients saw. */
interface Seen {
  /** Markers acknowledged (200), with how: stored now or a duplicate of a stored one. */
  acked: Map<string, "accepted" | "duplicate">;
  /** Every 503: the marker, the phase it came in, its retry-after and its message. */
  refused: { id: string; phase: string; retryAfter: string | null; message: string }[];
  /** Anything else: status and body. */
  unexpected: string[];
}

/**
 * One client: one event per request; a refused event is sent again until acknowledged.
 * Even-numbered clients send a `uuid`, odd ones none; every event carries its own marker.
 */
async function client(
  url: string,
  n: number,
  seen: Seen,
  phase: () => string,
  stop: () => boolean,
) {
  while (!stop()) {
    const id = crypto.randomUUID();
    const event = {
      event: "killed_commit",
      anonymous_id: `client-${n}`,
      properties: { marker: id },
      ...(n % 2 === 0 ? { uuid: id } : {}),
    };
    while (true) {
      let res: Response;
      try {
        res = await fetch(`${url}/api/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json", apikey: KEY },
          body: JSON.stringify(event),
        });
      } catch (error) {
        seen.unexpected.push(`no answer for ${id}: ${error}`);
        return;
      }
      const body = await res.json();
      if (res.status === 200 && body.accepted + body.duplicates === 1) {
        seen.acked.set(id, body.accepted === 1 ? "accepted" : "duplicate");
        break;
      }
      if (res.status !== 503) {
        seen.unexpected.push(`${res.status} ${JSON.stringify(body)}`);
        return;
      }
      seen.refused.push({
        id,
        phase: phase(),
        retryAfter: res.headers.get("retry-after"),
        message: body.message,
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Terminates, `ROUNDS` times, every backend of Beacon's database in the wait `where` names;
 * each round waits until there is at least one not terminated before (a terminated backend
 * may still be listed, in its wait, while it exits).
 */
async function killRounds(admin: Database, database: string, where: string): Promise<number> {
  let killed = 0;
  const terminated: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let pids: number[] = [];
    await waitFor(`a commit waiting (${where})`, async () => {
      const rows = await admin.query<{ pid: number }>(
        `select pid from pg_catalog.pg_stat_activity
          where datname = $1 and pid <> pg_catalog.pg_backend_pid() and pid <> all($2::int[])
            and ${where}`,
        [database, terminated],
      );
      pids = rows.map((r) => r.pid);
      return pids.length > 0;
    }, { timeoutMs: 30_000, intervalMs: 10 });
    const [{ n }] = await admin.query<{ n: number }>(
      "select count(*) filter (where pg_catalog.pg_terminate_backend(pid))::int as n from unnest($1::int[]) as pid",
      [pids],
    );
    killed += n;
    terminated.push(...pids);
  }
  return killed;
}

Deno.test({
  name:
    "a group commit whose connection is killed mid-commit: the process stays up, a killed INSERT's requests get 503 with retry-after, a killed COMMIT's are acknowledged once committed, every event (with or without uuid) is stored once, ingestion resumes",
  ignore: skipWithoutPostgres15(missing),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    assert.deepEqual(missing, [], `missing: ${missing.join(", ")}`);
    const { pg, db } = await startOwnMigratedPostgres15();
    const admin = openPostgres(pg.adminUrl, { max: 2 });
    const database = new URL(pg.url).pathname.slice(1);
    const beacon = await spawnBeacon(pg.url);
    const seen: Seen = { acked: new Map(), refused: [], unexpected: [] };
    let phase = "warm-up";
    let stopping = false;
    const clients = Array.from(
      { length: CLIENTS },
      (_, n) => client(beacon.url, n, seen, () => phase, () => stopping),
    );
    const ackedAtLeast = (n: number) => () => seen.acked.size >= n && seen.unexpected.length === 0;
    try {
      await waitFor("100 events acknowledged", ackedAtLeast(100), { timeoutMs: 30_000 });

      await t.step("killed in the INSERT: its requests get 503, none is stored", async () => {
        const lock = openPostgres(pg.adminUrl, { max: 1 });
        try {
          await lock.transaction(async (tx) => {
            await tx.query("lock table public.events in exclusive mode");
            phase = "insert";
            const killed = await killRounds(
              admin,
              database,
              "wait_event_type = 'Lock' and query ilike '%insert into public.events%'",
            );
            assert.ok(killed >= ROUNDS, `${killed} backends killed in their INSERT`);
            await waitFor(
              "the killed requests answered",
              () => seen.refused.some((r) => r.phase === "insert"),
            );
            const refused = seen.refused.filter((r) => r.phase === "insert").map((r) => r.id);
            const [{ n }] = await tx.query<{ n: number }>(
              `select count(*)::int as n from public.events
                where event_type = 'killed_commit' and payload ->> 'marker' = any($1::text[])`,
              [refused],
            );
            assert.equal(n, 0, "nothing of a killed INSERT's group is stored");
          });
        } finally {
          await lock.close();
        }
        phase = "after insert";
        const before = seen.acked.size;
        await waitFor("ingestion resumes", ackedAtLeast(before + 100), { timeoutMs: 30_000 });
      });

      await t.step(
        "killed in the COMMIT: its requests, committed, are acknowledged (none answered 503)",
        async () => {
          await admin.query("alter system set synchronous_standby_names = 'no_such_standby'");
          await admin.query("select pg_catalog.pg_reload_conf()");
          phase = "commit";
          try {
            const killed = await killRounds(admin, database, "wait_event = 'SyncRep'");
            assert.ok(killed >= ROUNDS, `${killed} backends killed in their COMMIT`);
          } finally {
            await admin.query("alter system reset synchronous_standby_names");
            await admin.query("select pg_catalog.pg_reload_conf()");
          }
          phase = "after commit";
          const before = seen.acked.size;
          await waitFor("ingestion resumes", ackedAtLeast(before + 100), { timeoutMs: 30_000 });
          // The answers to the last round's kills may come once the phase is over.
          assert.deepEqual(
            seen.refused.filter((r) => r.phase.endsWith("commit")),
            [],
            "a commit whose backend was killed after committing locally is acknowledged, not refused",
          );
        },
      );

      stopping = true;
      await Promise.all(clients);
      assert.deepEqual(seen.unexpected, [], "only 200 and 503 were answered");
      assert.equal(beacon.exited(), null, "Beacon's process is still running");
      assert.equal((await fetch(`${beacon.url}/api/v1/health`)).status, 200);
      assert.deepEqual(
        seen.refused.filter((r) => r.retryAfter === null),
        [],
        "every 503 carries retry-after",
      );
      const markers = [...seen.acked.keys()];
      const twice = await db.query<{ marker: string; copies: number }>(
        `select payload ->> 'marker' as marker, count(*)::int as copies
           from public.events where event_type = 'killed_commit'
          group by 1 having count(*) > 1`,
      );
      assert.deepEqual(twice, [], "no event is stored twice (those sent without a uuid included)");
      const [stored] = await db.query<{ n: number; distinct_markers: number; acked: number }>(
        `select count(*)::int as n, count(distinct payload ->> 'marker')::int as distinct_markers,
                count(*) filter (where payload ->> 'marker' = any($1::text[]))::int as acked
           from public.events where event_type = 'killed_commit'`,
        [markers],
      );
      assert.deepEqual(stored, {
        n: markers.length,
        distinct_markers: markers.length,
        acked: markers.length,
      });
      console.log(
        `${markers.length} events acknowledged, ${seen.refused.length} answers 503 ` +
          `(${seen.refused.filter((r) => r.phase === "insert").length} in INSERT kills, ` +
          `${seen.refused.filter((r) => r.phase === "commit").length} in COMMIT kills)`,
      );
    } finally {
      stopping = true;
      await Promise.allSettled(clients);
      const output = await beacon.stop();
      if (seen.unexpected.length > 0 || beacon.exited()?.code) console.log(output.slice(-4000));
      await admin.close();
      await db.close();
      await pg.stop();
    }
  },
});
