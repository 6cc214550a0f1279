import assert from "node:assert/strict";
import { Hono } from "hono";
import { clientAddress, isTrustedAddress, parseAddressRange } from "./client_address.ts";
import { ConfigError, defineConfig } from "../config/mod.ts";
import { configFromEnv } from "../config/from_env.ts";

function appTrusting(trustedProxies: string[]) {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, trustedProxies)));
  return async (peer: string, xff?: string) => {
    const res = await app.request("/", { headers: xff ? { "x-forwarded-for": xff } : {} }, {
      remoteAddr: { hostname: peer },
    });
    return await res.text();
  };
}

Deno.test("without trusted proxies X-Forwarded-For is ignored: the client is the peer", async () => {
  const address = appTrusting([]);
  assert.equal(await address("192.0.2.1", "203.0.113.9"), "192.0.2.1");
});

Deno.test("from a trusted proxy the client is the rightmost X-Forwarded-For hop not itself trusted", async () => {
  const address = appTrusting(["10.0.0.0/8", "fd00::/8"]);
  assert.equal(await address("10.0.0.1", "203.0.113.9"), "203.0.113.9");
  assert.equal(await address("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.2.3.4"), "203.0.113.9");
  assert.equal(await address("fd00::1", "2001:db8::5"), "2001:db8::5");
  assert.equal(await address("10.0.0.1"), "10.0.0.1", "no header: the proxy itself");
  assert.equal(await address("192.0.2.1", "203.0.113.9"), "192.0.2.1", "an untrusted peer");
});

Deno.test("addresses and CIDR ranges are matched for IPv4, IPv6 and IPv4-mapped IPv6", () => {
  assert.ok(isTrustedAddress("10.255.0.1", ["10.0.0.0/8"]));
  assert.ok(!isTrustedAddress("11.0.0.1", ["10.0.0.0/8"]));
  assert.ok(isTrustedAddress("::ffff:10.0.0.7", ["10.0.0.0/8"]));
  assert.ok(isTrustedAddress("::1", ["::1"]));
  assert.ok(isTrustedAddress("2001:db8::1", ["2001:db8::/32"]));
  assert.ok(!isTrustedAddress("2001:db9::1", ["2001:db8::/32"]));
  assert.ok(!isTrustedAddress("not-an-ip", ["0.0.0.0/0"]));
  for (const bad of ["10.0.0.0/33", "300.1.1.1", "::1/129", "host.example", "1.2.3.4/8/1"]) {
    assert.equal(parseAddressRange(bad), null, bad);
  }
});

Deno.test("BEACON_TRUSTED_PROXIES lists proxies (default none); a bad entry stops the start", () => {
  assert.deepEqual(defineConfig(configFromEnv({})).trustedProxies, []);
  assert.deepEqual(
    defineConfig(configFromEnv({ BEACON_TRUSTED_PROXIES: "10.0.0.0/8, ::1" })).trustedProxies,
    ["10.0.0.0/8", "::1"],
  );
  assert.throws(
    () => configFromEnv({ BEACON_TRUSTED_PROXIES: "10.0.0.0/8,proxy.internal" }),
    (e) => e instanceof ConfigError && e.setting === "BEACON_TRUSTED_PROXIES",
  );
});
