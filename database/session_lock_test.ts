import assert from "node:assert/strict";
import { createSessionLock } from "./session_lock.ts";

Deno.test("holders take the session one at a time, in the order they asked", async () => {
  const lock = createSessionLock();
  const order: string[] = [];
  const release = await lock.acquire({});
  const second = lock.run({}, () => Promise.resolve(void order.push("second")));
  const third = lock.run({}, () => Promise.resolve(void order.push("third")));
  await Promise.resolve();
  order.push("first");
  release();
  await Promise.all([second, third]);
  assert.deepEqual(order, ["first", "second", "third"]);
});

Deno.test("a holder's state is saved when another takes the session and restored at its turn", async () => {
  const lock = createSessionLock();
  const calls: string[] = [];
  const client = {
    leave: () => Promise.resolve(void calls.push("client leaves")),
    enter: () => Promise.resolve(void calls.push("client enters")),
  };
  const app = {};
  await lock.run(client, async () => {});
  await lock.run(client, async () => {}); // same holder again: nothing to swap
  await lock.run(app, async () => {});
  await lock.run(app, async () => {});
  await lock.run(client, async () => {});
  lock.forget(client);
  await lock.run(app, async () => {}); // forgotten: it reset its own state
  assert.deepEqual(calls, ["client enters", "client leaves", "client enters"]);
});
