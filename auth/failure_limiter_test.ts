import assert from "node:assert/strict";
import { createFailureLimiter } from "./failure_limiter.ts";

Deno.test("failures lock a key for the rest of the window, and only that key", () => {
  let now = 0;
  const limiter = createFailureLimiter({ max: 3, windowMs: 1000, now: () => now });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfterMs("a"), 0);
    limiter.fail("a");
    now += 100;
  }
  assert.equal(limiter.retryAfterMs("a"), 700, "until the oldest failure leaves the window");
  assert.equal(limiter.retryAfterMs("b"), 0);
  now += 700;
  assert.equal(limiter.retryAfterMs("a"), 0);
  limiter.fail("a");
  limiter.reset("a");
  assert.equal(limiter.retryAfterMs("a"), 0);
});

Deno.test("simultaneous attempts are counted before any of them is checked", () => {
  let now = 0;
  const limiter = createFailureLimiter({ max: 5, windowMs: 1000, now: () => now });
  const waits = Array.from({ length: 100 }, () => limiter.tryAcquire("a"));
  assert.equal(waits.filter((w) => w === 0).length, 5, "only five attempts may go ahead");
  assert.ok(waits.slice(5).every((w) => w === 1000));
  limiter.release("a");
  assert.equal(limiter.tryAcquire("a"), 0, "a released attempt frees its slot");
  assert.ok(limiter.tryAcquire("a") > 0);
  now += 1000;
  assert.equal(limiter.tryAcquire("a"), 0, "the window passes");
});
