import assert from "node:assert/strict";
import { openMigratedPglite } from "../tests/support/database.ts";
import { createSignInLimiter } from "./sign_in_limiter.ts";

const db = await openMigratedPglite();
Deno.test.afterAll(() => db.close());

Deno.test("the embedded database runs the same lockout: five per account, a forgotten attempt frees its slot, a success clears the account", async () => {
  const limiter = createSignInLimiter(db, { accountMax: 5, addressMax: 20, windowMs: 60_000 });
  const attempts = [];
  for (let i = 0; i < 5; i++) attempts.push(await limiter.begin("pat@limiter.test", "192.0.2.1"));
  assert.ok(attempts.every((a) => a.attempt !== null && a.retryAfterMs === 0));
  const refused = await limiter.begin("pat@limiter.test", "192.0.2.1");
  assert.equal(refused.attempt, null);
  assert.ok(
    refused.retryAfterMs > 59_000 && refused.retryAfterMs <= 60_000,
    `${refused.retryAfterMs}`,
  );

  await limiter.forget(attempts[4].attempt!);
  const again = await limiter.begin("pat@limiter.test", "192.0.2.1");
  assert.notEqual(again.attempt, null, "the forgotten attempt's slot is free");

  await limiter.succeeded("pat@limiter.test", again.attempt!);
  for (let i = 0; i < 5; i++) {
    assert.notEqual((await limiter.begin("pat@limiter.test", "192.0.2.1")).attempt, null);
  }
  assert.equal((await limiter.begin("pat@limiter.test", "192.0.2.1")).attempt, null);
});

Deno.test("the address limit holds across accounts on the embedded database", async () => {
  const limiter = createSignInLimiter(db, { accountMax: 5, addressMax: 3, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    assert.notEqual((await limiter.begin(`a${i}@limiter.test`, "198.51.100.3")).attempt, null);
  }
  assert.equal((await limiter.begin("fresh@limiter.test", "198.51.100.3")).attempt, null);
  assert.notEqual((await limiter.begin("fresh@limiter.test", "198.51.100.4")).attempt, null);
});
