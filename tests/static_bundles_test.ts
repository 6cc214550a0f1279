/**
 * The island bundles as a browser fetches them from a real build: content-hashed names in
 * the page, compressed bodies that decompress to the file, cached for ever, with an ETag.
 */
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { buildIslands } from "../hydration/build.ts";
import { IMMUTABLE } from "../hydration/assets.ts";
import { createSharedTestApp, createUser } from "./support/app.ts";

const islandsDir = await Deno.makeTempDir({ prefix: "beacon-bundles-" });
Deno.test.afterAll(() => Deno.remove(islandsDir, { recursive: true }));
await buildIslands({ outDir: islandsDir });
const t = await createSharedTestApp({ config: { islandsDir } });
const admin = await createUser(t.db, "bundles@pages.test", true);

async function scriptUrls(): Promise<string[]> {
  const res = await t.app.request("/analytics", {
    headers: { authorization: `Bearer ${await t.token(admin)}` },
  });
  const html = await res.text();
  return [...html.matchAll(/(?:import\{revive\}from|import I\d+ from )"([^"]+)"/g)].map((m) =>
    m[1]
  );
}

Deno.test("the page loads the bundles by content-hashed names", async () => {
  const urls = await scriptUrls();
  assert.equal(urls.length, 2);
  for (const url of urls) assert.match(url, /^\/_islands\/.+-[0-9a-f]{10}\.js$/);
  const plain = await t.app.request("/_islands/islands/TimeSeriesChart.js");
  assert.equal(plain.status, 404, "the build writes only hashed names");
});

Deno.test("bundles are sent gzipped or brotli-compressed as accepted, immutable, with an ETag", async () => {
  const urls = await scriptUrls();
  // The chart's entry, and a chunk it imports.
  const entry = urls.find((u) => u.includes("TimeSeriesChart"))!;
  const file = await Deno.readFile(`${islandsDir}/${entry.slice("/_islands/".length)}`);
  const chunk = /from"\.\.\/(chunk-[\w]+\.js)"/.exec(new TextDecoder().decode(file))![1];
  for (const url of [entry, `/_islands/${chunk}`]) {
    const original = await Deno.readFile(`${islandsDir}/${url.slice("/_islands/".length)}`);

    const gz = await t.app.request(url, { headers: { "accept-encoding": "gzip, deflate" } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    assert.equal(gz.headers.get("vary"), "accept-encoding");
    assert.equal(gz.headers.get("cache-control"), IMMUTABLE);
    assert.equal(gz.headers.get("content-type"), "text/javascript; charset=utf-8");
    const gzBody = new Uint8Array(await gz.arrayBuffer());
    assert.ok(
      gzBody.length < original.length / 2,
      `${url}: ${gzBody.length} of ${original.length}`,
    );
    assert.deepEqual(new Uint8Array(gunzipSync(gzBody)), original, "gzip decompresses to the file");

    const br = await t.app.request(url, { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(br.headers.get("content-encoding"), "br");
    assert.deepEqual(
      new Uint8Array(brotliDecompressSync(new Uint8Array(await br.arrayBuffer()))),
      original,
      "brotli decompresses to the file",
    );

    const plain = await t.app.request(url);
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), original);

    const etag = gz.headers.get("etag");
    assert.match(etag ?? "", /^"[0-9a-f]+-gzip"$/);
    assert.notEqual(etag, br.headers.get("etag"), "each encoding has its own ETag");
    const again = await t.app.request(url, {
      headers: { "accept-encoding": "gzip", "if-none-match": etag! },
    });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
  }
});
