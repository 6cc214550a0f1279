// Prints `deno: N passed, M failed` from a Deno JUnit report and exits non-zero when
// anything failed or the test run itself failed. Usage: node count_junit.cjs FILE STATUS
"use strict";
const fs = require("node:fs");
const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? "0");
// FILE may list several reports, comma-separated (the server run and the edge run).
let xml = "";
for (const one of file.split(",")) {
  try {
    xml += fs.readFileSync(one, "utf8");
  } catch {
    console.log(`no JUnit report at ${one}: the test run did not finish`);
    xml += "<testcase><failure/></testcase>";
  }
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (
  const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)
) {
  const body = match[2] ?? "";
  if (/<(failure|error)\b/.test(body)) failed++;
  else if (/<skipped\b/.test(body)) skipped++;
  else passed++;
}
if (status !== 0 && failed === 0) failed = 1;
if (process.env.CI === "true" && skipped > 0) {
  console.log(
    `${skipped} test(s) were skipped; in CI a skipped suite counts as failed`,
  );
  failed += skipped;
  skipped = 0;
}
console.log(`deno: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
