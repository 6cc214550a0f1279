import assert from "node:assert/strict";
import postgres from "postgres";
import { DatabaseClosedError, isConnectionLost, isUnavailable } from "./errors.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the work to fail");
}

Deno.test("a database that refuses connections is unavailable (ECONNREFUSED from the driver)", async () => {
  const db = openPostgres(`postgres://postgres@127.0.0.1:${closedPort()}/postgres`);
  try {
    const error = await caught(() => db.query("select 1"));
    assert.equal((error as { code?: string }).code, "ECONNREFUSED");
    assert.equal(isUnavailable(error), true);
  } finally {
    await db.close();
  }
});

Deno.test("a pool that has ended is unavailable (CONNECTION_ENDED)", async () => {
  const sql = postgres(`postgres://postgres@127.0.0.1:${closedPort()}/postgres`);
  await sql.end();
  const error = await caught(() => sql`select 1`.then((rows) => rows));
  assert.equal((error as { code?: string }).code, "CONNECTION_ENDED");
  assert.equal(isUnavailable(error), true);
});

Deno.test("a closed embedded database is unavailable, a failing statement is not", async () => {
  const db = await openPglite();
  const syntax = await caught(() => db.query("selec 1"));
  assert.equal(isUnavailable(syntax), false, "a syntax error (42601) is Beacon's bug");
  const unique = await caught(() =>
    db.exec("create table t (id int primary key); insert into t values (1), (1);")
  );
  assert.equal((unique as { code?: string }).code, "23505");
  assert.equal(isUnavailable(unique), false);
  await db.close();
  const closed = await caught(() => db.query("select 1"));
  assert.ok(closed instanceof DatabaseClosedError, String(closed));
  assert.equal(isUnavailable(closed), true);
  assert.equal(isUnavailable(await caught(() => db.transaction(() => Promise.resolve()))), true);
});

Deno.test("unavailability is decided by codes (SQLSTATE 08, 57P01-57P03, causes), never by message text", () => {
  const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
  for (const code of ["08006", "08001", "57P01", "57P02", "57P03", "53300", "CONNECT_TIMEOUT"]) {
    assert.equal(isUnavailable(withCode(code)), true, code);
  }
  for (const code of ["57014", "42501", "23505", "22P02", "40001"]) {
    assert.equal(isUnavailable(withCode(code)), false, code);
  }
  assert.equal(
    isUnavailable(new Error("connection closed: terminating, could not connect")),
    false,
    "words in a message mean nothing",
  );
  assert.equal(isUnavailable(new Error("wrapped", { cause: withCode("ECONNRESET") })), true);
  assert.equal(isUnavailable(new Deno.errors.ConnectionReset("reset")), true);
  assert.equal(isUnavailable("CONNECTION_CLOSED"), false);
  assert.equal(isUnavailable(undefined), false);
});

Deno.test("a protocol violation at ERROR level (08P01 on an open connection) is neither unavailable nor a lost connection; at FATAL it is both", () => {
  const serverError = (code: string, severity: string) =>
    Object.assign(new Error("bind message supplies 2 parameters"), { code, severity });
  assert.equal(isUnavailable(serverError("08P01", "ERROR")), false);
  assert.equal(isConnectionLost(serverError("08P01", "ERROR")), false);
  assert.equal(isUnavailable(serverError("08P01", "FATAL")), true);
  assert.equal(isConnectionLost(serverError("08P01", "FATAL")), true);
});

Deno.test("a lost connection is decided by the driver's connection codes, socket errors, 57P01-57P03 and FATAL severity; other SQLSTATEs leave the connection open", () => {
  const withCode = (code: string) => Object.assign(new Error("x"), { code });
  for (const code of ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "ECONNRESET", "EPIPE"]) {
    assert.equal(isConnectionLost(withCode(code)), true, code);
  }
  for (const code of ["57P01", "57P02", "57P03"]) {
    assert.equal(isConnectionLost(withCode(code)), true, code);
  }
  for (const code of ["08006", "08P01", "53300", "57014", "23505", "22P02", "40001"]) {
    assert.equal(isConnectionLost(withCode(code)), false, code);
  }
  assert.equal(isConnectionLost(Object.assign(withCode("25P03"), { severity: "FATAL" })), true);
  assert.equal(isConnectionLost(new Error("wrapped", { cause: withCode("EPIPE") })), true);
  assert.equal(isConnectionLost(new Deno.errors.BrokenPipe("pipe")), true);
});
