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
