import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  isPathPrefix,
  pagesPointer,
  publicLocation,
  servedUnder,
  type SiteConfig,
} from "./base_path.ts";

const SUPABASE: SiteConfig = {
  basePath: "/beacon",
  publicPath: "/functions/v1/beacon",
  pages: true,
};

function app() {
  const inner = new Hono();
  inner.get("/analytics", (c) =>
    c.html(
      '<a href="/analytics/events">Events</a><a href="//cdn.example">x</a>' +
        '<a href="#main">skip</a><form method="post" action="/logout"></form>' +
        "<p>href=&quot;/not-a-link&quot;</p>",
    ));
  inner.get("/login", (c) => {
    c.header("set-cookie", "beacon_csrf=abc; Path=/; Max-Age=600; HttpOnly; SameSite=Strict");
    return c.redirect("/analytics", 303);
  });
  inner.get("/path", (c) => c.json({ path: c.req.path, url: new URL(c.req.url).pathname }));
  inner.post("/echo", async (c) => c.text(await c.req.text()));
  return inner;
}

Deno.test("a path prefix is empty or /segments without a trailing slash", () => {
  assert.ok(isPathPrefix(""));
  assert.ok(isPathPrefix("/functions/v1/beacon"));
  assert.ok(!isPathPrefix("/beacon/"));
  assert.ok(!isPathPrefix("beacon"));
  assert.ok(!isPathPrefix("/a b"));
});

Deno.test("only same-site absolute paths get the public prefix", () => {
  assert.equal(publicLocation("/login?next=%2F", "/p"), "/p/login?next=%2F");
  assert.equal(publicLocation("//evil.example/", "/p"), "//evil.example/");
  assert.equal(publicLocation("https://example.com/x", "/p"), "https://example.com/x");
});

Deno.test("under a base path the app sees its own paths, and paths outside get a JSON 404", async () => {
  const served = servedUnder(app(), SUPABASE);
  const res = await served.request("/beacon/path?x=1");
  assert.deepEqual(await res.json(), { path: "/path", url: "/path" });
  const outside = await served.request("/path");
  assert.equal(outside.status, 404);
  assert.equal((await outside.json()).error, "not_found");
  const posted = await served.request("/beacon/echo", { method: "POST", body: "hello" });
  assert.equal(await posted.text(), "hello", "request bodies pass through");
});

Deno.test("redirects, cookie paths, links and form actions are put under the public path", async () => {
  const served = servedUnder(app(), SUPABASE);
  const login = await served.request("/beacon/login");
  assert.equal(login.headers.get("location"), "/functions/v1/beacon/analytics");
  assert.equal(
    login.headers.getSetCookie()[0],
    "beacon_csrf=abc; Path=/functions/v1/beacon; Max-Age=600; HttpOnly; SameSite=Strict",
  );
  const html = await (await served.request("/beacon/analytics")).text();
  assert.match(html, /href="\/functions\/v1\/beacon\/analytics\/events"/);
  assert.match(html, /action="\/functions\/v1\/beacon\/logout"/);
  assert.match(html, /href="\/\/cdn\.example"/, "another host is left alone");
  assert.match(html, /href="#main"/, "fragments are left alone");
  assert.match(html, /href=&quot;\/not-a-link&quot;/, "text that looks like an attribute is not");
});

Deno.test("without prefixes the app itself is served", () => {
  const inner = app();
  assert.equal(servedUnder(inner, { basePath: "", publicPath: "", pages: true }), inner);
});

Deno.test("with pages off, page routes answer a plain-text pointer and the API still answers", async () => {
  const inner = new Hono();
  inner.use(pagesPointer({ ...SUPABASE, pages: false, dashboardUrl: "https://dash.example" }));
  inner.get("/analytics", (c) => c.html("<p>page</p>"));
  inner.get("/api/v1/health", (c) => c.json({ ok: true }));
  inner.get("/api/v1/oops", (c) => c.html("<p>html from the API</p>"));
  const page = await inner.request("/analytics");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/plain/);
  assert.match(await page.text(), /The dashboard is at https:\/\/dash\.example/);
  const post = await inner.request("/login", { method: "POST" });
  assert.equal(post.status, 404);
  assert.match(post.headers.get("content-type")!, /^text\/plain/);
  assert.deepEqual(await (await inner.request("/api/v1/health")).json(), { ok: true });
  const html = await inner.request("/api/v1/oops");
  assert.match(html.headers.get("content-type")!, /^text\/plain/, "no HTML gets out");
});
