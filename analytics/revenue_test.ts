import assert from "node:assert/strict";
import { parseRateForm, parseRevenueRange, revenueQuery } from "./revenue.ts";
import { ParamError } from "./params.ts";

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ParamError);
    return e.field;
  }
  assert.fail("no error");
};

Deno.test("the revenue range defaults to the 12 months to today and round-trips", () => {
  const r = parseRevenueRange(new URLSearchParams(), "2026-11-26");
  assert.deepEqual(r, { from: "2025-12-01", to: "2026-11-26" });
  assert.deepEqual(parseRevenueRange(new URLSearchParams(revenueQuery(r)), "2030-01-01"), r);
  assert.deepEqual(
    parseRevenueRange(new URLSearchParams("to=2026-03-31"), "2026-11-26"),
    { from: "2025-04-01", to: "2026-03-31" },
  );
});

Deno.test("a bad revenue range names its parameter", () => {
  const today = "2026-11-26";
  assert.equal(
    field(() => parseRevenueRange(new URLSearchParams("from=2026-02-30"), today)),
    "from",
  );
  assert.equal(field(() => parseRevenueRange(new URLSearchParams("to=x"), today)), "to");
  assert.equal(
    field(() => parseRevenueRange(new URLSearchParams("from=2026-03-02&to=2026-03-01"), today)),
    "from",
  );
  assert.equal(
    field(() => parseRevenueRange(new URLSearchParams("from=2020-01-01&to=2026-03-01"), today)),
    "from",
  );
  assert.equal(field(() => parseRevenueRange(new URLSearchParams("to=a%00"), today)), "to");
});

Deno.test("a rate form is checked field by field", () => {
  assert.deepEqual(parseRateForm({ currency: " eur ", rate: "1.08", valid_from: "2026-01-01" }), {
    currency: "EUR",
    rate: 1.08,
    validFrom: "2026-01-01",
  });
  assert.equal(
    field(() => parseRateForm({ currency: "E'; drop", rate: "1", valid_from: "2026-01-01" })),
    "currency",
  );
  for (const rate of ["0", "-1", "1e3", "abc", "1000000", ""]) {
    assert.equal(
      field(() => parseRateForm({ currency: "EUR", rate, valid_from: "2026-01-01" })),
      "rate",
    );
  }
  assert.equal(
    field(() => parseRateForm({ currency: "EUR", rate: "1", valid_from: "" })),
    "valid_from",
  );
});
