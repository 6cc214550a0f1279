import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";
import type { AppDeps, AppEnv } from "../routes/_deps.ts";
import { errorResponse } from "./error_response.ts";
import { silentLogger } from "../log/mod.ts";

function appThatThrows(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("deps", { log: silentLogger } as AppDeps);
    c.set("requestId", "req-1");
    await next();
  });
  app.post("/json", validator("json", (value) => value), (c) => c.json(c.req.valid("json")));
  app.get("/teapot", () => {
    throw new HTTPException(418, { message: "short and stout" });
  });
  app.get("/own-response", () => {
    throw new HTTPException(401, {
      res: new Response("custom", { status: 401, headers: { "www-authenticate": "Bearer" } }),
    });
  });
  app.get("/down", () => {
    throw Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), {
      code: "CONNECTION_CLOSED",
    });
  });
  app.get("/bug", () => {
    throw new Error("the database connection is closed"); // words, no code: a bug
  });
  app.onError(errorResponse(silentLogger));
  return app;
}

Deno.test("Hono's own HTTPException keeps its status, in Beacon's JSON error style", async () => {
  const app = appThatThrows();
  const malformed = await app.request("/json", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(malformed.status, 400);
  const body = await malformed.json();
  assert.equal(body.error, "bad_request");
  assert.match(body.message, /Malformed JSON/);
  assert.equal(body.request_id, "req-1");

  const teapot = await app.request("/teapot");
  assert.equal(teapot.status, 418);
  assert.deepEqual(await teapot.json(), {
    error: "http_418",
    message: "short and stout",
    request_id: "req-1",
  });
});

Deno.test("an HTTPException with a response of its own is answered with that response", async () => {
  const res = await appThatThrows().request("/own-response");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  assert.equal(await res.text(), "custom");
});

Deno.test("a dropped database connection is a 503 unavailable, any other error a 500", async () => {
  const app = appThatThrows();
  const down = await app.request("/down");
  assert.equal(down.status, 503);
  assert.equal(down.headers.get("retry-after"), "2");
  assert.equal((await down.json()).error, "unavailable");
  const bug = await app.request("/bug");
  assert.equal(bug.status, 500);
  assert.equal((await bug.json()).error, "internal_error");
});
