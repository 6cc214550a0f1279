import assert from "node:assert/strict";
import { wireClientSection } from "./wire_client_report.ts";

Deno.test("the wire client block shows each condition's rate and its ratio to no client", () => {
  const text = wireClientSection({
    events: 10_000,
    runs: 3,
    conditions: [
      { client: "none", eventsPerSecond: 2000, ratio: 1 },
      { client: "idle", eventsPerSecond: 1900, ratio: 0.95 },
      { client: "busy", eventsPerSecond: 1500, ratio: 0.75, clientQueriesPerSecond: 12.34 },
    ],
  });
  assert.match(text, /\| no client \| 2,000 \| 1\.00 \| — \|/);
  assert.match(text, /back to back \| 1,500 \| 0\.75 \| 12\.3 \|/);
  assert.equal(wireClientSection(undefined), "");
});
