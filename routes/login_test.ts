import assert from "node:assert/strict";
import { createSharedSuiteApp, createSuiteApp } from "../tests/support/app.ts";
import { serverOnlyTest } from "../tests/support/target.ts";
import { safeNext } from "./login.tsx";

const t = await createSharedSuiteApp({ config: { trustedProxies: ["10.0.0.0/8"] } });
/** Where app.request's requests come from, as Deno.serve would tell the app. */
const FROM_CLIENT = { remoteAddr: { hostname: "192.0.2.10" } };
const FROM_PROXY = { remoteAddr: { hostname: "10.0.0.2" } };
/** The origin app.request's URLs have: a form posted from this site carries it. */
const SITE = { origin: "http://localhost" };
await t.db.query("select beacon.create_user('sam@login.test', 'sam-password-1', true)");
await t.db.query("select beacon.create_user('olive@login.test', 'olive-password-1', false)");

/** Cookies set by a response, as name → full Set-Cookie line. */
function setCookies(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((line) => [line.split("=")[0], line]));
}

async function csrf(): Promise<{ token: string; cookie: string }> {
  const res = await t.app.request("/login", {}, FROM_CLIENT);
  const html = await res.text();
  const token = /name="csrf" value="([^"]+)"/.exec(html)![1];
  const line = setCookies(res).get("beacon_csrf")!;
  return { token, cookie: line.split(";")[0] };
}

async function login(
  email: string,
  password: string,
  options: {
    csrf?: string;
    next?: string;
    headers?: Record<string, string>;
    env?: typeof FROM_CLIENT;
    /** Another Beacon instance to sign in through. @default {t.app} */
    app?: typeof t.app;
  } = {},
) {
  const c = await csrf();
  const body = new URLSearchParams({
    csrf: options.csrf ?? c.token,
    email,
    password,
    next: options.next ?? "/analytics",
  });
  return await (options.app ?? t.app).request("/login", {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: c.cookie,
      ...SITE,
      ...options.headers,
    },
  }, options.env ?? FROM_CLIENT);
}

/** The session cookie (name=value) a response set. */
function sessionOf(res: Response): string {
  return setCookies(res).get("beacon_session")!.split(";")[0];
}

/** Signs out with the form the page shows (its CSRF token read from a page). */
async function logout(session: string, csrf?: string, extraCookie = "") {
  if (csrf === undefined) {
    const page = await t.app.request("/analytics/events", { headers: { cookie: session } });
    csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
  }
  return await t.app.request("/logout", {
    method: "POST",
    body: new URLSearchParams({ csrf }),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `${session}${extraCookie}`,
      ...SITE,
    },
  }, FROM_CLIENT);
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

Deno.test("a good sign-in sets an opaque, HttpOnly, SameSite=Lax session with an expiry and follows next", async () => {
  const res = await login("SAM@login.test", "sam-password-1", { next: "/analytics/events?type=x" });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/analytics/events?type=x");
  const session = setCookies(res).get("beacon_session")!;
  assert.match(session, /^beacon_session=[\w-]{43};/, "a random session id, no token");
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
    headers: { "x-forwarded-proto": "https", origin: "https://localhost" },
    env: FROM_PROXY,
  });
  assert.equal(res.headers.get("location"), "/analytics");
  assert.match(setCookies(res).get("beacon_session")!, /Secure/);
});

serverOnlyTest(
  "on the edge the gateway is the function's only peer and sets X-Forwarded-Proto itself",
  "X-Forwarded-Proto from a client that is not a trusted proxy is ignored",
  async () => {
    const res = await login("sam@login.test", "sam-password-1", {
      headers: { "x-forwarded-proto": "https" },
    });
    assert.equal(res.status, 303);
    assert.doesNotMatch(setCookies(res).get("beacon_session")!, /Secure/);
  },
);

Deno.test("next is only ever a path on this site: tabs, newlines, backslashes and other hosts are refused", () => {
  const origin = "http://beacon.test";
  for (
    const next of [
      "/\t/evil.example",
      "/\n/x",
      "/\r\n/x",
      "//evil.example",
      "/\\evil.example",
      "\\/evil.example",
      "https://evil.example/",
      "http://beacon.test.evil.example/",
      "javascript:alert(1)",
      "/\u0000x",
      "",
      undefined,
    ]
  ) {
    assert.equal(safeNext(next, origin), "/analytics", JSON.stringify(next));
  }
  assert.equal(
    safeNext("/analytics/events?type=a%20b#top", origin),
    "/analytics/events?type=a%20b#top",
  );
  assert.equal(safeNext("/analytics/../analytics/events", origin), "/analytics/events");
});

Deno.test("next that normalises to //host (dot segments) is refused: no redirect to another site", () => {
  const origin = "http://beacon.test";
  for (
    const next of [
      "/.//evil.example",
      "/a/..//evil.example",
      "/%2e//evil.example",
      "/..//evil.example",
      "/.///evil.example",
    ]
  ) {
    assert.equal(safeNext(next, origin), "/analytics", JSON.stringify(next));
  }
});

Deno.test("an oversized sign-in form is a 413 and an over-long email a 400, before any password check", async () => {
  const big = await login("sam@login.test", "x".repeat(20_000));
  assert.equal(big.status, 413);
  const longEmail = await login(`${"a".repeat(300)}@login.test`, "sam-password-1");
  assert.equal(longEmail.status, 400);
  assert.match(await longEmail.text(), /at most 254 characters/);
});

Deno.test("next=/%09/evil.example is not carried into the form, and next=/\\n/x is no 500", async () => {
  const form = await t.app.request("/login?next=/%09/evil.example", {}, FROM_CLIENT);
  assert.match(await form.text(), /name="next" value="\/analytics"/);
  const res = await login("sam@login.test", "sam-password-1", { next: "/\n/x" });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/analytics");
  const tab = await login("sam@login.test", "sam-password-1", { next: "/\t/evil.example" });
  assert.equal(tab.headers.get("location"), "/analytics");
});

Deno.test("a NUL character in the email or password is a 400 form error, not a 500", async () => {
  for (const [email, password] of [["sam\0@login.test", "x"], ["sam@login.test", "pa\0ss"]]) {
    const res = await login(email, password);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /cannot contain the NUL character/);
  }
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

Deno.test("two Beacon instances on one database share the lockout: failures through one lock sign-in through the other", async () => {
  await t.db.query("select beacon.create_user('isolde@login.test', 'isolde-password-1', false)");
  // On the edge target the other instance is another function process (another isolate).
  const other = await createSuiteApp({ db: t.db, config: { trustedProxies: ["10.0.0.0/8"] } });
  try {
    const env = { remoteAddr: { hostname: "192.0.2.11" } };
    for (let i = 0; i < 5; i++) {
      assert.equal((await login("isolde@login.test", "nope", { env })).status, 401);
    }
    const locked = await login("isolde@login.test", "isolde-password-1", { env, app: other.app });
    assert.equal(locked.status, 429, "the other instance knows of the five failures");
    assert.ok(Number(locked.headers.get("retry-after")) > 0);
    const elsewhere = await login("isolde@login.test", "isolde-password-1", {
      env: { remoteAddr: { hostname: "192.0.2.99" } },
      app: other.app,
    });
    assert.equal(elsewhere.status, 429, "the account is locked whatever the address");
  } finally {
    await other.close();
  }
});

Deno.test("a success through one Beacon instance clears the account's failures for the other", async () => {
  await t.db.query("select beacon.create_user('ursula@login.test', 'ursula-password-1', false)");
  const other = await createSuiteApp({ db: t.db, config: { trustedProxies: ["10.0.0.0/8"] } });
  try {
    const env = { remoteAddr: { hostname: "192.0.2.12" } };
    for (let i = 0; i < 4; i++) {
      assert.equal((await login("ursula@login.test", "nope", { env })).status, 401);
    }
    const good = await login("ursula@login.test", "ursula-password-1", { env, app: other.app });
    assert.equal(good.status, 303);
    for (let i = 0; i < 4; i++) {
      assert.equal(
        (await login("ursula@login.test", "nope", { env })).status,
        401,
        `failure ${i + 1} after the success is counted afresh`,
      );
    }
  } finally {
    await other.close();
  }
});

Deno.test("pages: strangers go to /login, a tampered session counts as none, sign-out clears it", async () => {
  const stranger = await t.app.request("/analytics?range=7");
  assert.equal(stranger.status, 302);
  assert.equal(stranger.headers.get("location"), "/login?next=%2Fanalytics%3Frange%3D7");
  const good = sessionOf(await login("sam@login.test", "sam-password-1"));
  const tampered = good.slice(0, -3) + "abc";
  assert.equal((await t.app.request("/analytics", { headers: { cookie: tampered } })).status, 302);
  const out = await logout(good);
  assert.equal(out.status, 303);
  assert.match(setCookies(out).get("beacon_session")!, /Max-Age=0/);
});

Deno.test("sign-out ends the session: the old cookie is refused afterwards", async () => {
  const session = sessionOf(await login("sam@login.test", "sam-password-1"));
  assert.equal(
    (await t.app.request("/analytics/events", { headers: { cookie: session } })).status,
    200,
  );
  assert.equal((await logout(session)).status, 303);
  const page = await t.app.request("/analytics/events", { headers: { cookie: session } });
  assert.equal(page.status, 302, "the page sends the old cookie to sign in");
  const api = await t.app.request("/api/v1/analytics/summary", { headers: { cookie: session } });
  assert.equal(api.status, 401, "and the API refuses it");
});

Deno.test("a planted CSRF cookie does not pass: sign-out with it is refused and the session lives", async () => {
  const session = sessionOf(await login("sam@login.test", "sam-password-1"));
  const planted = "planted-by-a-neighbour-site-0123";
  const out = await logout(session, planted, `; beacon_csrf=${planted}`);
  assert.equal(out.status, 400);
  assert.equal(
    (await t.app.request("/analytics/events", { headers: { cookie: session } })).status,
    200,
  );
  const other = sessionOf(await login("sam@login.test", "sam-password-1"));
  const otherPage = await t.app.request("/analytics/events", { headers: { cookie: other } });
  const otherToken = /name="csrf" value="([^"]+)"/.exec(await otherPage.text())![1];
  assert.equal((await logout(session, otherToken)).status, 400, "another session's token fails");
  assert.equal((await logout(session)).status, 303, "the session's own token passes");
});

Deno.test("a sign-in form posted from another site is refused, even with a valid token pair", async () => {
  const res = await login("sam@login.test", "sam-password-1", {
    headers: { origin: "https://evil.example" },
  });
  assert.equal(res.status, 403);
  assert.equal(setCookies(res).has("beacon_session"), false);
  const noOrigin = await login("sam@login.test", "sam-password-1", { headers: { origin: "" } });
  assert.equal(noOrigin.status, 403, "without Origin or Sec-Fetch-Site");
  const fetchSite = await login("sam@login.test", "sam-password-1", {
    headers: { origin: "", "sec-fetch-site": "same-origin" },
  });
  assert.equal(fetchSite.status, 303, "Sec-Fetch-Site: same-origin is enough");
});

Deno.test("behind a trusted proxy each client is limited by its own address, not the proxy's", async () => {
  const t2 = await createSuiteApp({ db: t.db, config: { trustedProxies: ["10.0.0.0/8"] } });
  try {
    const from = (xff: string) => ({ headers: { "x-forwarded-for": xff }, env: FROM_PROXY });
    const attempt = async (email: string, xff: string) => {
      const c = await csrf();
      return await t2.app.request("/login", {
        method: "POST",
        body: new URLSearchParams({ csrf: c.token, email, password: "wrong", next: "/" }),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie: c.cookie,
          ...SITE,
          ...from(xff).headers,
        },
      }, FROM_PROXY);
    };
    // 20 failures (the address limit) from one client, spread over accounts.
    for (let i = 0; i < 20; i++) {
      assert.equal(
        (await attempt(`nobody${i % 4}@proxy.test`, "198.51.100.7, 10.0.0.9")).status,
        401,
      );
    }
    assert.equal((await attempt("nobody9@proxy.test", "198.51.100.7")).status, 429);
    assert.equal(
      (await attempt("nobody9@proxy.test", "1.2.3.4, 198.51.100.7")).status,
      429,
      "a hop the client wrote itself does not change its address",
    );
    assert.equal(
      (await attempt("nobody9@proxy.test", "203.0.113.5")).status,
      401,
      "another client",
    );
  } finally {
    await t2.close();
  }
});
