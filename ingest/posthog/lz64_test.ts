import assert from "node:assert/strict";
// The real lz-string package, as older posthog-js bundled it: what the decoder must read.
import LZString from "lz-string";
import { decompressFromBase64, Lz64Error, Lz64TooLargeError } from "./lz64.ts";

function randomText(length: number, alphabet: string): string {
  const chars = [...alphabet];
  return Array.from({ length }, () => chars[Math.floor(Math.random() * chars.length)]).join("");
}

Deno.test("lz64 text made by the lz-string package decodes to the original string", () => {
  const batch = JSON.stringify([{
    event: "$pageview",
    properties: { distinct_id: "anon-1", $current_url: "https://app.test/pricing?plan=pro" },
  }]);
  const samples = [
    '{"a":1}',
    "a",
    "ab",
    batch,
    batch.repeat(40), // long repeats: the dictionary and the code width grow
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // entries made from themselves
    "héllo wörld — naïve café 東京 🚀 \u0000 \uffff", // 8- and 16-bit characters, a surrogate pair
    randomText(5000, 'abcdefghij{}:,"0123456789'),
    randomText(3000, "日本語のテキスト🙂éà"),
  ];
  for (const sample of samples) {
    const encoded = LZString.compressToBase64(sample);
    assert.equal(decompressFromBase64(encoded, 1_000_000), sample, sample.slice(0, 40));
  }
});

Deno.test("lz64 text whose + became a space in a form, or that was wrapped, still decodes", () => {
  let sample = "";
  let encoded = "";
  for (let i = 0; !encoded.includes("+"); i++) {
    sample = JSON.stringify({ event: "e", i, pad: "~~~>>>???".repeat(i % 7) });
    encoded = LZString.compressToBase64(sample);
  }
  assert.equal(decompressFromBase64(encoded.replace(/\+/g, " "), 10_000), sample);
  assert.equal(decompressFromBase64(encoded.replace(/(.{8})/g, "$1\n"), 10_000), sample);
});

Deno.test("lz64 text that is not base64, cut short, or names a missing entry is refused", () => {
  const encoded = LZString.compressToBase64(JSON.stringify({ event: "cut", n: 12345 }));
  assert.throws(() => decompressFromBase64("", 100), Lz64Error);
  assert.throws(() => decompressFromBase64("%%%%", 100), Lz64Error);
  assert.throws(() => decompressFromBase64("N4Ig\u00e9", 100), Lz64Error);
  assert.throws(() => decompressFromBase64(encoded.slice(0, 6), 100), Lz64Error);
  assert.throws(() => decompressFromBase64("////////", 100), Lz64Error);
});

Deno.test("lz64 text that would decompress past the bound stops with Lz64TooLargeError", () => {
  const big = "x".repeat(200_000);
  const encoded = LZString.compressToBase64(big);
  assert.ok(encoded.length < 2_000, `a bomb: ${encoded.length} characters`);
  assert.throws(
    () => decompressFromBase64(encoded, 64 * 1024),
    (e) => e instanceof Lz64TooLargeError && e.maxLength === 64 * 1024,
  );
  assert.equal(decompressFromBase64(encoded, 200_000), big);
});
