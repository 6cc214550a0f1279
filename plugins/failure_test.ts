import assert from "node:assert/strict";
import { classifyFailure, isRetryableStatus, parseRetryAfter, PluginError } from "./failure.ts";

Deno.test("network errors, 5xx, 401, 403 (credentials), 408 and 429 are retryable; other 4xx are permanent", () => {
  assert.deepEqual(
    [undefined, 200, 302, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503].map((s) =>
      `${s}:${isRetryableStatus(s)}`
    ),
    [
      "undefined:true",
      "200:true",
      "302:true",
      "400:false",
      "401:true",
      "403:true",
      "404:false",
      "408:true",
      "409:false",
      "413:false",
      "422:false",
      "429:true",
      "500:true",
      "502:true",
      "503:true",
    ],
  );
  assert.equal(
    classifyFailure(new TypeError("error sending request: connection refused")).retryable,
    true,
  );
  assert.equal(classifyFailure(new DOMException("timed out", "TimeoutError")).retryable, true);
  assert.equal(classifyFailure("a string").retryable, true);
  assert.equal(classifyFailure(new PluginError("bad", { status: 400 })).retryable, false);
  assert.equal(classifyFailure(new PluginError("busy", { status: 429 })).retryable, true);
});

Deno.test("an error's own retryable flag, Retry-After and refused event ids are read as they are", () => {
  const thrown = Object.assign(new Error("HTTP error while fetching PostHog: status=429"), {
    status: 429,
    retryAfterMs: 5000,
  });
  assert.deepEqual(classifyFailure(thrown), {
    retryable: true,
    retryAfterMs: 5000,
    message: "HTTP error while fetching PostHog: status=429",
  });
  const refused = new PluginError("two refused", { status: 400, eventIds: ["a", "b"] });
  assert.deepEqual(classifyFailure(refused).eventIds, ["a", "b"]);
  const flagged = Object.assign(new Error("refused"), { status: 500, retryable: false });
  assert.equal(classifyFailure(flagged).retryable, false, "an explicit flag wins over the status");
});

Deno.test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2026-11-27T10:00:00Z");
  assert.equal(parseRetryAfter("120", now), 120_000);
  assert.equal(parseRetryAfter("Fri, 27 Nov 2026 10:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Fri, 27 Nov 2026 09:00:00 GMT", now), 0, "a date past is now");
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter("soon", now), undefined);
});
