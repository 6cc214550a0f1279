import assert from "node:assert/strict";
import { createTestApp } from "../tests/support/app.ts";

const t = await createTestApp();
await t.db.query("select beacon.create_user('sam@login.test', 'sam-password-1', true)");
await t.db.query("select beacon.create_user('olive@login.test', 'olive-password-1', false)");

/** Cookies set by a response, as name → full Set-Cookie line. */
function setCookies(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((line) => [line.split("=")[0], line]));
}

async function csrf(): Promise<{ token: string; cookie: string }> {
  const res = await t.app.request("/login");
  const html = await res.text();
  const token = /name="csrf" value="([^"]+)"/.exec(html)![1];
  const line = setCookies(res).get("beacon_csrf")!;
  return { token, cookie: line.split(";")[0] };
}

async function login(
  email: string,
  password: string,
  options: { csrf?: string; next?: string; headers?: Record<string, string> } = {},
) {
  const c = await csrf();
  const body = new URLSearchParams({
    csrf: options.csrf ?? c.token,
    email,
    password,
    next: options.next ?? "/analytics",
  });
  return await t.app.request("/login", {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: c.cookie,
      ...options.headers,
    },
  });
}

Deno.test("the sign-in form carries a CSRF token bound to an HttpOnly, SameSite=Strict cookie", async () => {
  const res = await t.app.request("/login");
  assert.equal(res.status, 200);
  const cookie = setCookies(res).get("beacon_csrf")!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(await res.text(), /name="csrf" value="[\w-]{20,}"/);
});

Deno.test("a sign-in without the matching CSRF token is refused", async () => {
  const res = await login("sam@login.test", "sam-password-1", {
    csrf: "forged-token-forged-token",
  });
  assert.equal(res.status, 400);
  assert.equal(setCookies(res).has("beacon_session"), false);
});

Deno.test("a good sign-in sets a signed, HttpOnly, SameSite=Lax session with an expiry and follows next", async () => {
  const res = await login("SAM@login.test", "sam-password-1", { next: "/analytics/events?type=x" });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/analytics/events?type=x");
  const session = setCookies(res).get("beacon_session")!;
  assert.match(session, /^beacon_session=[\w-]+\.[\w-]+\.[\w-]+;/);
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Lax/);
  assert.match(session, /Max-Age=43200/);
  assert.doesNotMatch(session, /Secure/, "no Secure flag over plain http");
  const page = await t.app.request("/analytics/events", {
    headers: { cookie: session.split(";")[0] },
  });
  assert.equal(page.status, 200);
});

Deno.test("behind HTTPS the session cookie is Secure; next cannot leave the site", async () => {
  const res = await login("sam@login.test", "sam-password-1", {
    next: "//evil.example/",
    headers: { "x-forwarded-proto": "https" },
  });
  assert.equal(res.headers.get("location"), "/analytics");
  assert.match(setCookies(res).get("beacon_session")!, /Secure/);
});

Deno.test("a wrong password is refused; repeated failures lock the account for a while", async () => {
  const wrong = await login("olive@login.test", "nope");
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /Wrong email or password/);
  for (let i = 0; i < 4; i++) await login("olive@login.test", "nope");
  const locked = await login("olive@login.test", "olive-password-1");
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.match(await locked.text(), /Too many failed sign-ins/);
  assert.equal(setCookies(locked).has("beacon_session"), false);
});

Deno.test("pages: strangers go to /login, a tampered session counts as none, sign-out clears it", async () => {
  const stranger = await t.app.request("/analytics?range=7");
  assert.equal(stranger.status, 302);
  assert.equal(stranger.headers.get("location"), "/login?next=%2Fanalytics%3Frange%3D7");
  const good =
    setCookies(await login("sam@login.test", "sam-password-1")).get("beacon_session")!.split(
      ";",
    )[0];
  const tampered = good.slice(0, -3) + "abc";
  assert.equal((await t.app.request("/analytics", { headers: { cookie: tampered } })).status, 302);
  const c = await csrf();
  const out = await t.app.request("/logout", {
    method: "POST",
    body: new URLSearchParams({ csrf: c.token }),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `${good}; ${c.cookie}`,
    },
  });
  assert.equal(out.status, 303);
  assert.match(setCookies(out).get("beacon_session")!, /Max-Age=0/);
});

Deno.test({
  name: "close the test database",
  fn: () => t.close(),
  sanitizeResources: false,
  sanitizeOps: false,
});
