import assert from "node:assert/strict";
import { msUntilNextRun } from "./nightly_scheduler.ts";

Deno.test("the nightly job runs at the next 02:00 UTC", () => {
  const at = (iso: string) => msUntilNextRun(new Date(iso)) / 60_000;
  assert.equal(at("2026-11-26T01:00:00Z"), 60);
  assert.equal(at("2026-11-26T02:00:00Z"), 24 * 60);
  assert.equal(at("2026-11-26T23:30:00Z"), 150);
  assert.equal(at("2026-12-31T03:00:00Z"), 23 * 60);
});
