import assert from "node:assert/strict";
import { chooseEncoding, islandAssets } from "./assets.ts";

Deno.test("the encoding follows Accept-Encoding: brotli, else gzip, else none", () => {
  assert.equal(chooseEncoding("gzip, deflate, br, zstd"), "br");
  assert.equal(chooseEncoding("gzip, deflate"), "gzip");
  assert.equal(chooseEncoding("br;q=0, gzip;q=0.5"), "gzip");
  assert.equal(chooseEncoding("*"), "br");
  assert.equal(chooseEncoding("identity"), "identity");
  assert.equal(chooseEncoding(null), "identity");
});

Deno.test("a file the build did not name by its content is revalidated, not kept for ever", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-assets-" });
  try {
    await Deno.writeTextFile(`${dir}/plain.js`, "export const x = 1;\n".repeat(50));
    const res = await islandAssets(dir).respond("plain.js", new Headers());
    assert.ok(res);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]+"$/);
    assert.equal(await res.text(), "export const x = 1;\n".repeat(50));
    assert.equal(await islandAssets(dir).respond("missing.js", new Headers()), null);
    assert.deepEqual(islandAssets(dir).entries(), {}, "no manifest, plain names");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
