/**
 * The wire server (`wire/`) on a bare embedded database: clients and the app share PGlite's
 * one session in turns, each keeping its own settings and prepared statements; a client that
 * leaves has its transaction rolled back; an extended-protocol client (postgres.js) works.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { openPglite } from "../database/pglite.ts";
import { startWireServer } from "../wire/server.ts";
import { createScramVerifier } from "../wire/scram.ts";
import { typed } from "../wire/messages.ts";
import { silentLogger } from "../log/mod.ts";
import { connectRaw } from "./support/raw_pg.ts";

const PASSWORD = "wire-server-test-password";
const text = (s: string) => new TextEncoder().encode(s);
const query = (sql: string) => typed("Q", text(`${sql}\0`));
const parse = (name: string, sql: string) => typed("P", text(`${name}\0${sql}\0\0\0`));
const sync = () => typed("S", new Uint8Array(0));
const errors = (messages: { type: string; body: Uint8Array }[]) =>
  messages.filter((m) => m.type === "E").map((m) => new TextDecoder().decode(m.body));
const rows = (messages: { type: string; body: Uint8Array }[]) =>
  messages.filter((m) => m.type === "D").map((m) => {
    const view = new DataView(m.body.buffer, m.body.byteOffset);
    const length = view.getInt32(2);
    return new TextDecoder().decode(m.body.subarray(6, 6 + length));
  });

Deno.test("the wire server shares PGlite's session with the app in turns", async (t) => {
  const db = await openPglite();
  await db.exec(
    "create role analyst nologin; create table t (x int); grant select on t to analyst;",
  );
  const server = await startWireServer({
    session: db.embedded,
    hostname: "127.0.0.1",
    port: 0,
    verifier: await createScramVerifier(PASSWORD),
    idleInTransactionMs: 60_000,
    log: silentLogger,
  });
  try {
    await t.step("two clients preparing the same statement name do not collide", async () => {
      const a = await connectRaw(server.port, PASSWORD);
      const b = await connectRaw(server.port, PASSWORD);
      try {
        assert.deepEqual(errors(await a.exchange(parse("S_1", "select 1"), sync())), []);
        assert.deepEqual(errors(await b.exchange(parse("S_1", "select 2"), sync())), []);
      } finally {
        a.close();
        b.close();
      }
      // A client that comes back after leaving prepares its names again.
      const c = await connectRaw(server.port, PASSWORD);
      try {
        assert.deepEqual(errors(await c.exchange(parse("S_1", "select 3"), sync())), []);
      } finally {
        c.close();
      }
    });

    await t.step(
      "each client keeps its own role and settings, and the app keeps none of them",
      async () => {
        const a = await connectRaw(server.port, PASSWORD);
        const b = await connectRaw(server.port, PASSWORD);
        try {
          await a.exchange(query("set role analyst; set DateStyle = 'SQL, DMY'"));
          assert.deepEqual(rows(await b.exchange(query("select current_user"))), ["postgres"]);
          assert.deepEqual(await db.query("select current_user::text as u"), [{ u: "postgres" }]);
          assert.deepEqual(
            await db.query("select current_setting('DateStyle') as d"),
            [{ d: "ISO, MDY" }],
          );
          assert.deepEqual(rows(await a.exchange(query("select current_user"))), ["analyst"]);
          assert.deepEqual(
            rows(await a.exchange(query("select current_setting('DateStyle')"))),
            ["SQL, DMY"],
          );
        } finally {
          a.close();
          b.close();
        }
      },
    );

    await t.step("a client that leaves inside a transaction has it rolled back", async () => {
      const a = await connectRaw(server.port, PASSWORD);
      await a.exchange(query("begin; insert into t values (1)"));
      a.close();
      // The app's next statement waits for the client's turn to be cleaned up.
      await db.query("insert into t values (2)");
      assert.deepEqual(await db.query("select x from t order by x"), [{ x: 2 }]);
      assert.equal(db.embedded.pglite.isInTransaction(), false);
    });

    await t.step(
      "an extended-protocol client (postgres.js, three connections) runs alongside the app",
      async () => {
        const sql = postgres({
          host: "127.0.0.1",
          port: server.port,
          user: "postgres",
          password: PASSWORD,
          database: "postgres",
          max: 3,
          onnotice: () => {},
        });
        try {
          const work: Promise<unknown>[] = [];
          for (let i = 0; i < 30; i++) {
            work.push(sql`select ${i}::int as i`.then((r) => assert.equal(r[0].i, i)));
            work.push(db.query("insert into t values ($1)", [100 + i]));
          }
          await sql.begin(async (tx) => {
            await tx`insert into t values (1000)`;
          });
          await Promise.all(work);
          const [{ n }] = await db.query<{ n: number }>(
            "select count(*)::int as n from t where x >= 100",
          );
          assert.equal(n, 31);
        } finally {
          await sql.end();
        }
      },
    );

    await t.step("a port already in use fails the start", async () => {
      await assert.rejects(
        startWireServer({
          session: db.embedded,
          hostname: "127.0.0.1",
          port: server.port,
          verifier: await createScramVerifier(PASSWORD),
          idleInTransactionMs: 60_000,
          log: silentLogger,
        }),
        Deno.errors.AddrInUse,
      );
    });

    await t.step("stopping the server rolls back what a connected client left open", async () => {
      const a = await connectRaw(server.port, PASSWORD);
      await a.exchange(query("begin; insert into t values (-1)"));
      await server.stop();
      assert.deepEqual(await db.query("select x from t where x < 0"), []);
      assert.equal(db.embedded.pglite.isInTransaction(), false);
      a.close();
    });
  } finally {
    await server.stop();
    await db.close();
  }
});
