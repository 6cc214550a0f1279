import assert from "node:assert/strict";
import { createSharedSuiteApp, createUser } from "../tests/support/app.ts";
import { serverOnlyTest } from "../tests/support/target.ts";

const t = await createSharedSuiteApp({ config: { trustedProxies: ["10.0.0.0/8"] } });
const admin = await createUser(t.db, "admin@headers.test", true);

function nonceOf(res: Response): string {
  const csp = res.headers.get("content-security-policy") ?? "";
  return /script-src 'nonce-([^']+)' 'self'/.exec(csp)?.[1] ?? assert.fail(`no nonce in ${csp}`);
}

Deno.test("pages carry a CSP with a fresh nonce, no framing, nosniff and a same-origin referrer", async () => {
  const res = await t.app.request("/login");
  const csp = res.headers.get("content-security-policy")!;
  assert.match(csp, /script-src 'nonce-[\w+/=]+' 'self'/);
  assert.match(csp, /object-src 'none'/);
  assert.match(csp, /base-uri 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "same-origin");
  assert.equal(res.headers.get("strict-transport-security"), null, "no HSTS over plain http");
  for (
    const [name, value] of [
      ["cross-origin-opener-policy", "same-origin"],
      ["cross-origin-resource-policy", "same-origin"],
      ["origin-agent-cluster", "?1"],
      ["x-dns-prefetch-control", "off"],
      ["x-download-options", "noopen"],
      ["x-permitted-cross-domain-policies", "none"],
      ["x-xss-protection", "0"],
    ]
  ) assert.equal(res.headers.get(name), value, name);
  const nonce = nonceOf(res);
  const html = await res.text();
  const tags = html.match(/<(script|style)\b[^>]*>/g) ?? [];
  assert.ok(tags.length >= 2, "the layout has an inline style and script");
  for (const tag of tags) assert.ok(tag.includes(`nonce="${nonce}"`), `${tag} carries the nonce`);
  assert.notEqual(nonceOf(await t.app.request("/login")), nonce, "a new nonce per response");
});

Deno.test("the islands' state and module scripts carry the response's nonce", async () => {
  const res = await t.app.request("/analytics", {
    headers: { authorization: `Bearer ${await t.token(admin)}` },
  });
  assert.equal(res.status, 200);
  const nonce = nonceOf(res);
  const html = await res.text();
  assert.match(
    html,
    new RegExp(
      `<script id="__BEACON_ISLANDS__" type="application/json" nonce="${
        nonce.replace(/[+/]/g, "\\$&")
      }">`,
    ),
  );
  const modules = html.match(/<script type="module"[^>]*>/g) ?? [];
  assert.equal(modules.length, 1);
  assert.ok(modules[0].includes(`nonce="${nonce}"`));
});

Deno.test("the JSON API and error answers are nosniff and unframeable too", async () => {
  for (const path of ["/api/v1/analytics/summary", "/api/v1/nothing-here", "/api/v1/health"]) {
    const res = await t.app.request(path);
    await res.body?.cancel();
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("x-frame-options"), "DENY", path);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.match(csp, /script-src 'self'/, `${path}: nothing inline runs`);
    assert.doesNotMatch(csp, /nonce-/, `${path}: a nonce only for pages`);
  }
});

serverOnlyTest(
  "on the edge the gateway is the function's only peer and sets X-Forwarded-Proto itself",
  "HSTS only over HTTPS: behind a trusted proxy that says so, not when a client says so",
  async () => {
    const https = { "x-forwarded-proto": "https" };
    const proxied = await t.app.request("/login", { headers: https }, {
      remoteAddr: { hostname: "10.1.2.3" },
    });
    assert.match(proxied.headers.get("strict-transport-security") ?? "", /max-age=\d+/);
    const spoofed = await t.app.request("/login", { headers: https }, {
      remoteAddr: { hostname: "192.0.2.1" },
    });
    assert.equal(spoofed.headers.get("strict-transport-security"), null);
  },
);
