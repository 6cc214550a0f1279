import assert from "node:assert/strict";
import { createScramVerifier, parseScramVerifier, startScramExchange } from "./scram.ts";
import { scramClient } from "../tests/support/raw_pg.ts";

Deno.test("a verifier is kept in PostgreSQL's format and never holds the password", async () => {
  const text = await createScramVerifier("correct horse battery");
  assert.match(text, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.ok(!text.includes("correct horse battery"));
  assert.equal(parseScramVerifier(text).storedKey.length, 32);
});

Deno.test("the right password's proof is accepted and the wrong one's refused", async () => {
  const verifier = parseScramVerifier(await createScramVerifier("correct horse battery"));
  for (const [password, accepted] of [["correct horse battery", true], ["wrong", false]] as const) {
    const client = scramClient(password);
    const exchange = startScramExchange(verifier);
    const serverFirst = exchange.first(client.first);
    assert.ok(serverFirst);
    const verdict = await exchange.final(await client.final(serverFirst));
    assert.equal(verdict !== undefined, accepted, password);
    if (accepted) assert.match(verdict!, /^v=/);
  }
});

Deno.test("a proof made for another exchange's nonce is refused", async () => {
  const verifier = parseScramVerifier(await createScramVerifier("correct horse battery"));
  const client = scramClient("correct horse battery");
  const one = startScramExchange(verifier);
  const two = startScramExchange(verifier);
  const firstOfOne = one.first(client.first)!;
  two.first(client.first);
  assert.equal(await two.final(await client.final(firstOfOne)), undefined);
  assert.equal(startScramExchange(verifier).first("not scram"), undefined);
});
