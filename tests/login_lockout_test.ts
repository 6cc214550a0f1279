/**
 * The sign-in lockout against real servers over sockets: a hundred simultaneous wrong
 * passwords for one account get exactly five password checks; the rest, and the right
 * password after them, get 429. On PGlite (one session) with one app, and on PostgreSQL 15
 * with two app instances, each with its own pool of connections (as two edge isolates or two
 * server processes are), the requests spread over both.
 */
import assert from "node:assert/strict";
import type { Database } from "../database/mod.ts";
import { createTestApp } from "./support/app.ts";
import { openMigratedPglite, startMigratedPostgres15 } from "./support/database.ts";
import { missingPostgres15, skipWithoutPostgres15 } from "./support/postgres15.ts";

/**
 * The database, counting password checks; each takes a moment on "another machine" (as
 * bcrypt does on a PostgreSQL server), leaving the event loop free, so requests overlap.
 */
function countingPasswordChecks(real: Database, checks: { count: number }): Database {
  return Object.create(real, {
    query: {
      value: async (text: string, params?: unknown[]) => {
        if (text.includes("beacon.authenticate")) {
          checks.count++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return await real.query(text, params);
      },
    },
  });
}

/**
 * Serves each database as its own Beacon app, sends 100 simultaneous wrong passwords for
 * one account spread over the apps, then the right one to each app.
 */
async function hundredWrongThenRight(dbs: Database[]) {
  const apps = await Promise.all(dbs.map((db) => createTestApp({ db })));
  const servers = apps.map((t) =>
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch)
  );
  const urls = servers.map((server) => `http://127.0.0.1:${server.addr.port}`);
  try {
    // Apps sharing a database share the CSRF signing secret (the test apps' own).
    const form = await fetch(`${urls[0]}/login`);
    const cookie = form.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const attempt = async (url: string, password: string) => {
      const res = await fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: url },
        body: new URLSearchParams({ csrf, email: "target@lockout.test", password, next: "/" }),
      });
      await res.body?.cancel();
      return res.status;
    };
    const wrong = await Promise.all(
      Array.from({ length: 100 }, (_, i) => attempt(urls[i % urls.length], `wrong-password-${i}`)),
    );
    const right = [];
    for (const url of urls) right.push(await attempt(url, "the-right-password"));
    return { wrong, right };
  } finally {
    await Promise.all(servers.map((server) => server.shutdown()));
    await Promise.all(apps.map((t) => t.close()));
  }
}

function assertLockedOut(
  result: { wrong: number[]; right: number[] },
  checks: { count: number },
) {
  const count = (status: number) => result.wrong.filter((s) => s === status).length;
  // Exactly five: each attempt is counted (atomically, in the database) before its password
  // is checked, and a wrong password stays counted, so the first five to be counted are
  // checked and nothing else is; only an attempt whose check fails to answer is forgotten.
  assert.equal(count(401), 5, "five wrong passwords were checked and refused");
  assert.equal(count(429), 95, "every other attempt was turned away");
  assert.ok(result.right.every((s) => s === 429), "the right password comes too late");
  assert.equal(checks.count, 5, "and was not even checked: five checks in all");
}

Deno.test("100 simultaneous wrong passwords get exactly 5 password checks; the rest and then the right password get 429", async () => {
  const real = await openMigratedPglite();
  try {
    await real.query(
      "select beacon.create_user('target@lockout.test', 'the-right-password', true)",
    );
    const checks = { count: 0 };
    assertLockedOut(await hundredWrongThenRight([countingPasswordChecks(real, checks)]), checks);
  } finally {
    await real.close();
  }
});

const missing = await missingPostgres15();
Deno.test({
  name:
    "on PostgreSQL 15, 100 simultaneous wrong passwords spread over two app instances (two pools) get exactly 5 password checks in all",
  ignore: skipWithoutPostgres15(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const { pg, db } = await startMigratedPostgres15();
    const pools = [pg.connect(), pg.connect()];
    try {
      await db.query(
        "select beacon.create_user('target@lockout.test', 'the-right-password', true)",
      );
      const checks = { count: 0 };
      const result = await hundredWrongThenRight(
        pools.map((pool) => countingPasswordChecks(pool, checks)),
      );
      assertLockedOut(result, checks);
      const [{ rows }] = await db.query<{ rows: number }>(
        "select count(*)::int as rows from private.sign_in_failures where kind = 'account'",
      );
      assert.equal(rows, checks.count, "the database counted exactly the attempts checked");
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
      await db.close();
      await pg.stop();
    }
  },
});
