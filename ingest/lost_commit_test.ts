import assert from "node:assert/strict";
import type { Database, Queryable } from "../database/mod.ts";
import { isUnavailable } from "../database/errors.ts";
import { CommitUnknownError, settleLostCommit } from "./lost_commit.ts";

const withCode = (code: string) => Object.assign(new Error(code), { code });
/** What a connection lost during COMMIT fails with under postgres.js. */
const lost = () => withCode("CONNECTION_CLOSED");
const done = { xid: "1234", result: { stored: [0, 1] } };

/**
 * A database whose transactions answer `pg_xact_status` from `answers`, one per question
 * (an Error is thrown instead); `asked` holds the xids asked about.
 */
function statusDatabase(answers: (string | null | Error)[]) {
  const asked: unknown[] = [];
  const tx: Queryable = {
    query<T>(_text: string, params: unknown[] = []): Promise<T[]> {
      asked.push(params[0]);
      const answer = answers.shift();
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve([{ status: answer ?? null }] as T[]);
    },
    exec: () => Promise.reject(new Error("not used")),
    queryText: () => Promise.reject(new Error("not used")),
  };
  const db: Database = {
    kind: "postgres",
    ...tx,
    transaction: (fn) => fn(tx),
    queryScript: () => Promise.reject(new Error("not used")),
    close: () => Promise.resolve(),
  };
  return { db, asked };
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return await work.then(() => assert.fail("expected a rejection"), (error) => error);
}

Deno.test("a commit whose answer was lost stands when pg_xact_status says the transaction committed", async () => {
  const { db, asked } = statusDatabase(["committed"]);
  assert.deepEqual(await settleLostCommit(db, lost(), done), done.result);
  assert.deepEqual(asked, ["1234"]);
});

Deno.test("a commit whose answer was lost is the connection's 503 (nothing stored) when the transaction aborted or is too old to know", async () => {
  for (const status of ["aborted", null]) {
    const error = lost();
    const { db } = statusDatabase([status]);
    assert.equal(await rejection(settleLostCommit(db, error, done)), error, String(status));
  }
});

Deno.test("a commit whose outcome cannot be learned is a 503 saying the events may have been stored and a retry with the same ids is safe", async () => {
  const { db } = statusDatabase([withCode("CONNECT_TIMEOUT")]);
  const error = await rejection(settleLostCommit(db, lost(), done));
  assert.ok(error instanceof CommitUnknownError);
  const response = error.getResponse();
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "2");
  const body = await response.json();
  assert.equal(body.error, "unavailable");
  assert.match(body.message, /may have been stored/);
  assert.match(body.message, /same id|with an id/);
  assert.equal(isUnavailable(error), true, "its cause is the lost connection");
});

Deno.test("a transaction still in progress after the checks is an unknown outcome, not a failure", async () => {
  const { db, asked } = statusDatabase(Array(20).fill("in progress"));
  assert.ok(await rejection(settleLostCommit(db, lost(), done)) instanceof CommitUnknownError);
  assert.equal(asked.length, 20);
});

Deno.test("a transaction seen in progress, then committed, stands", async () => {
  const { db } = statusDatabase(["in progress", "in progress", "committed"]);
  assert.deepEqual(await settleLostCommit(db, lost(), done), done.result);
});

Deno.test("a connection found lost while asking is replaced by another pooled one", async () => {
  const { db, asked } = statusDatabase([withCode("57P01"), lost(), "committed"]);
  assert.deepEqual(await settleLostCommit(db, lost(), done), done.result);
  assert.equal(asked.length, 3);
});

Deno.test("a transaction that failed before its statement resolved, or for another reason than unavailability, is rethrown without asking", async () => {
  const { db, asked } = statusDatabase(["committed"]);
  const early = lost();
  assert.equal(await rejection(settleLostCommit(db, early, undefined)), early);
  const bug = withCode("42883");
  assert.equal(await rejection(settleLostCommit(db, bug, done)), bug);
  assert.deepEqual(asked, []);
});

Deno.test("a transaction that wrote nothing (no xid) stands without asking: committed or not, nothing of it is stored", async () => {
  const { db, asked } = statusDatabase([]);
  const nothing = { xid: null, result: { stored: [] } };
  assert.deepEqual(await settleLostCommit(db, lost(), nothing), nothing.result);
  assert.deepEqual(asked, []);
});
