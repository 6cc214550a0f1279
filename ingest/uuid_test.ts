import assert from "node:assert/strict";
import { uuidV7, uuidV7Time } from "./uuid.ts";

Deno.test("uuidV7 carries its millisecond, version 7 and the RFC 9562 variant", () => {
  for (const ms of [0, 1, 1_700_000_000_123, Date.UTC(2026, 10, 26, 22, 0, 0, 999), 2 ** 48 - 1]) {
    const id = uuidV7(ms);
    assert.ok(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
    assert.equal(uuidV7Time(id), ms);
  }
  // The time field checked independently of uuidV7Time: its first 12 hex digits.
  assert.equal(uuidV7(0x0123456789ab).slice(0, 13), "01234567-89ab");
});

Deno.test("uuidV7 ids sort by the time they were made, and never repeat", () => {
  const base = Date.UTC(2026, 10, 26);
  const ids = Array.from({ length: 2000 }, (_, i) => uuidV7(base + Math.floor(i / 4)));
  for (let i = 4; i < ids.length; i++) {
    if (Math.floor(i / 4) !== Math.floor((i - 1) / 4)) {
      assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
    }
  }
  assert.equal(new Set(ids).size, ids.length);
  assert.notEqual(uuidV7(base), uuidV7(base));
});

Deno.test("uuidV7 refuses instants its 48 bits cannot hold", () => {
  for (const bad of [-1, 2 ** 48, 1.5, Number.NaN]) {
    assert.throws(() => uuidV7(bad), /milliseconds/);
  }
  assert.equal(uuidV7Time("0b6a1f9e-3c1d-4e7a-9a57-2f1f5b2d8c11"), null);
});
