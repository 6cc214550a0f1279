import assert from "node:assert/strict";
import {
  assertCleanParams,
  eventCursor,
  ParamError,
  parseEventFilters,
  parseRange,
  parseSelection,
} from "./params.ts";
import { csvField, csvLine } from "./csv.ts";
import { previousPeriod } from "./days.ts";
import { selectionQuery } from "../components/chart/url_state.ts";

const metrics = ["events", "signups"];

Deno.test("a selection defaults to events over the last 30 days by day", () => {
  assert.deepEqual(parseSelection(new URLSearchParams(), metrics, "2026-11-26"), {
    metric: "events",
    range: "30",
    from: "2026-10-28",
    to: "2026-11-26",
    bucket: "day",
    compare: false,
  });
});

Deno.test("custom dates win over a preset range; the URL round-trips", () => {
  const selection = parseSelection(
    new URLSearchParams("metric=signups&from=2026-01-01&to=2026-01-31&bucket=week&compare=1"),
    metrics,
    "2026-11-26",
  );
  assert.equal(selection.range, "custom");
  assert.deepEqual(
    parseSelection(new URLSearchParams(selectionQuery(selection)), metrics, "2026-11-26"),
    selection,
  );
  const preset = parseSelection(new URLSearchParams("range=7"), metrics, "2026-11-26");
  assert.equal(selectionQuery(preset), "metric=events&bucket=day&range=7");
});

Deno.test("the previous period has the same length and ends the day before", () => {
  assert.deepEqual(previousPeriod("2026-11-20", "2026-11-26"), {
    from: "2026-11-13",
    to: "2026-11-19",
  });
});

Deno.test("explorer filters and cursors", () => {
  const cursor = eventCursor({
    timestamp: "2026-11-26T10:00:00.123456Z",
    id: "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11",
  });
  const filters = parseEventFilters(
    new URLSearchParams({ type: "page_view", before: cursor, limit: "10" }),
  );
  assert.deepEqual(filters.before, {
    timestamp: "2026-11-26T10:00:00.123456Z",
    id: "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11",
  });
  assert.equal(filters.limit, 10);
  assert.throws(
    () => parseEventFilters(new URLSearchParams({ from: "2026-11-27", to: "2026-11-26" })),
    /from/,
  );
});

Deno.test("CSV fields are quoted only when needed, quotes doubled", () => {
  assert.equal(
    csvLine(["a", 'b"c', "d,e", "f\ng", null, { k: 1 }]),
    'a,"b""c","d,e","f\ng",,"{""k"":1}"\r\n',
  );
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParamError) return error.field;
    throw error;
  }
  return undefined;
}

Deno.test("parameters holding NUL are rejected naming the parameter", () => {
  assert.equal(fieldOf(() => parseEventFilters(new URLSearchParams({ type: "a\0b" }))), "type");
  assert.equal(
    fieldOf(() => parseEventFilters(new URLSearchParams({ anonymous_id: "x\0" }))),
    "anonymous_id",
  );
  assert.equal(
    fieldOf(() => parseSelection(new URLSearchParams({ range: "7\0" }), metrics, "2026-11-26")),
    "range",
  );
  assert.equal(fieldOf(() => assertCleanParams(new URLSearchParams({ ok: "🚀 ünï" }))), undefined);
});

Deno.test("dates and cursors outside 1900-01-01 to 9999-12-30 are rejected", () => {
  const id = "0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11";
  assert.equal(
    fieldOf(() => parseEventFilters(new URLSearchParams({ from: "0000-01-01" }))),
    "from",
  );
  assert.equal(fieldOf(() => parseEventFilters(new URLSearchParams({ to: "9999-12-31" }))), "to");
  assert.equal(
    fieldOf(() => parseEventFilters(new URLSearchParams({ before: `275760-09-13_${id}` }))),
    "before",
  );
  assert.equal(
    fieldOf(() =>
      parseSelection(
        new URLSearchParams({ from: "1899-12-31", to: "1900-01-02" }),
        metrics,
        "2026-11-26",
      )
    ),
    "from",
  );
  assert.equal(
    parseEventFilters(new URLSearchParams({ before: `1900-01-01T00:00:00.000000Z_${id}` })).before
      ?.id,
    id,
  );
});

Deno.test("CSV text cells starting with = + - @ tab or CR get a leading quote; numbers stay numbers", () => {
  for (const text of ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"]) {
    assert.ok(csvField(text).replace(/^"/, "").startsWith(`'${text[0]}`), JSON.stringify(text));
  }
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField(-5), "-5");
  assert.equal(csvField(-1.5), "-1.5");
  assert.equal(csvField("a-b"), "a-b");
  assert.equal(csvField({ a: "=x" }), '"{""a"":""=x""}"');
});

Deno.test("parseRange reads only the range: presets up to today, or from and to", () => {
  assert.deepEqual(parseRange(new URLSearchParams(), "2026-11-26"), {
    range: "30",
    from: "2026-10-28",
    to: "2026-11-26",
  });
  assert.deepEqual(
    parseRange(new URLSearchParams({ from: "2026-01-01", to: "2026-01-31" }), "2026-11-26"),
    { range: "custom", from: "2026-01-01", to: "2026-01-31" },
  );
  assert.throws(
    () => parseRange(new URLSearchParams({ range: "12" }), "2026-11-26"),
    (e) => e instanceof ParamError && e.field === "range",
  );
});
