import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "./errors.ts";
import { errorResponse } from "./error_response.ts";
import { silentLogger } from "../log/mod.ts";

Deno.test("a thrown ApiError is answered with its status, code, field, message and retry-after", async () => {
  const app = new Hono();
  app.get("/param", () => {
    throw new ApiError(400, "invalid_parameter", "top: too big", { field: "top" });
  });
  app.get("/busy", () => {
    throw new ApiError(503, "busy", "try again", { retryAfterSeconds: 1 });
  });
  app.onError(errorResponse(silentLogger));

  const param = await app.request("/param");
  assert.equal(param.status, 400);
  assert.deepEqual(await param.json(), {
    error: "invalid_parameter",
    field: "top",
    message: "top: too big",
  });
  const busy = await app.request("/busy");
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get("retry-after"), "1");
  assert.deepEqual(await busy.json(), { error: "busy", message: "try again" });
});

Deno.test("an ApiError renders the same JSON without Beacon's onError (Hono's default handler)", async () => {
  const app = new Hono();
  app.get("/", () => {
    throw new ApiError(429, "too_many_failures", "wait", { retryAfterSeconds: 7 });
  });
  const res = await app.request("/");
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "7");
  assert.deepEqual(await res.json(), { error: "too_many_failures", message: "wait" });
});
