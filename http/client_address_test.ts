import assert from "node:assert/strict";
import { Hono } from "hono";
import { clientAddress, isTrustedAddress, parseAddressRange } from "./client_address.ts";
import { ConfigError, defineConfig } from "../config/mod.ts";
import { configFromEnv } from "../config/from_env.ts";

function appTrusting(trustedProxies: string[], header?: string) {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, trustedProxies, header)));
  return async (peer: string, xff?: string, more: Record<string, string> = {}) => {
    const headers = { ...(xff ? { "x-forwarded-for": xff } : {}), ...more };
    const res = await app.request("/", { headers }, {
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

Deno.test("with a client-address header (Supabase: cf-connecting-ip) a forged X-Forwarded-For changes nothing", async () => {
  const address = appTrusting(["0.0.0.0/0", "::/0"], "cf-connecting-ip");
  const cf = { "cf-connecting-ip": "203.0.113.9" };
  assert.equal(await address("10.0.0.1", "198.51.100.1", cf), "203.0.113.9");
  assert.equal(await address("10.0.0.1", "198.51.100.2, 10.0.0.9", cf), "203.0.113.9");
  assert.equal(
    await address("10.0.0.1", "198.51.100.3", { "cf-connecting-ip": "2001:db8::7" }),
    "2001:db8::7",
  );
  assert.equal(await address("10.0.0.1", "198.51.100.4"), "10.0.0.1", "no header: the peer");
  assert.equal(
    await address("10.0.0.1", "198.51.100.5", { "cf-connecting-ip": "not an address" }),
    "10.0.0.1",
  );
  const untrusting = appTrusting([], "cf-connecting-ip");
  assert.equal(await untrusting("192.0.2.1", undefined, cf), "192.0.2.1", "an untrusted peer");
});

Deno.test("BEACON_CLIENT_ADDRESS_HEADER names the header (lower-cased); a bad name stops the start", () => {
  assert.equal(defineConfig(configFromEnv({})).clientAddressHeader, undefined);
  assert.equal(
    defineConfig(configFromEnv({ BEACON_CLIENT_ADDRESS_HEADER: "X-Real-IP" })).clientAddressHeader,
    "x-real-ip",
  );
  assert.throws(
    () => configFromEnv({ BEACON_CLIENT_ADDRESS_HEADER: "x real ip" }),
    (e) => e instanceof ConfigError && e.setting === "BEACON_CLIENT_ADDRESS_HEADER",
  );
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
