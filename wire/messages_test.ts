import assert from "node:assert/strict";
import { MessageBuffer, prefixNames, typed } from "./messages.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("a message split across reads comes out whole, and two in one read come out apart", () => {
  const query = typed("Q", text("select 1\0"));
  const sync = typed("S", new Uint8Array(0));
  const buffer = new MessageBuffer();
  buffer.push(query.subarray(0, 3));
  assert.equal(buffer.next(), undefined);
  const rest = new Uint8Array([...query.subarray(3), ...sync]);
  buffer.push(rest);
  assert.deepEqual(buffer.next(), query);
  assert.deepEqual(buffer.next(), sync);
  assert.equal(buffer.next(), undefined);
});

Deno.test("named statements and portals get the client's prefix; unnamed ones stay unnamed", () => {
  const parse = typed("P", text("S_1\0select 1\0\0\0"));
  assert.deepEqual(prefixNames(parse, "w7_"), typed("P", text("w7_S_1\0select 1\0\0\0")));
  const bind = typed("B", text("\0S_1\0\0\0\0\0\0\0"));
  assert.deepEqual(prefixNames(bind, "w7_"), typed("B", text("\0w7_S_1\0\0\0\0\0\0\0")));
  const describe = typed("D", text("SS_1\0"));
  assert.deepEqual(prefixNames(describe, "w7_"), typed("D", text("Sw7_S_1\0")));
  const close = typed("C", text("PC_2\0"));
  assert.deepEqual(prefixNames(close, "w7_"), typed("C", text("Pw7_C_2\0")));
  const execute = typed("E", text("\0\0\0\0\0"));
  assert.deepEqual(prefixNames(execute, "w7_"), execute);
  const query = typed("Q", text("select 1\0"));
  assert.equal(prefixNames(query, "w7_"), query);
});
