// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import { signal } from "@preact/signals";
import { island, islandScripts, renderWithIslands } from "./render.ts";
import { fromTransport, serializeState, toTransport } from "./transport.ts";
import Counter from "../tests/fixtures/islands/Counter.tsx";

const CounterIsland = island("Counter", Counter);

Deno.test("an island renders inside a marker naming it and its props' index", () => {
  const { html, islands } = renderWithIslands(
    <main>
      <CounterIsland label="first" start={signal(3)} tags={["a"]} />
      <p>between</p>
      <CounterIsland label="second" start={signal(10)} tags={[]} />
    </main>,
  );
  assert.match(
    html,
    /^<main><beacon-island data-name="Counter" data-index="0" style="display:contents"><div class="counter" data-label="first">.*<output>3<\/output>/,
  );
  assert.match(
    html,
    /<beacon-island data-name="Counter" data-index="1"[^>]*><div class="counter" data-label="second">/,
  );
  assert.deepEqual(islands.map((i) => i.name), ["Counter", "Counter"]);
});

Deno.test("a page with two islands of one kind loads that island's code once", () => {
  const { islands } = renderWithIslands(
    <div>
      <CounterIsland label="a" start={signal(1)} tags={[]} />
      <CounterIsland label="b" start={signal(2)} tags={[]} />
    </div>,
  );
  const scripts = islandScripts(islands, "/_islands");
  assert.equal(scripts.match(/islands\/Counter\.js/g)?.length, 1);
  assert.match(scripts, /import\{revive\}from"\/_islands\/hydration\/revive\.js"/);
  const state = JSON.parse(
    /<script id="__BEACON_ISLANDS__" type="application\/json">(.*?)<\/script>/.exec(scripts)![1],
  );
  assert.deepEqual(state, [
    { label: "a", start: { __beacon_signal: 1 }, tags: [] },
    { label: "b", start: { __beacon_signal: 2 }, tags: [] },
  ]);
});

Deno.test("a page without islands ships no script", () => {
  const { islands } = renderWithIslands(<p>static</p>);
  assert.equal(islandScripts(islands), "");
});

Deno.test("props travel as JSON: signals come back as signals, nested values intact", () => {
  const props = { s: signal({ n: 1 }), list: [signal("x"), 2], nested: { when: new Date(0) } };
  const back = fromTransport(JSON.parse(JSON.stringify(toTransport(props)))) as Record<string, any>;
  assert.deepEqual(back.s.value, { n: 1 });
  assert.equal(back.list[0].value, "x");
  assert.equal(back.list[1], 2);
  assert.equal(back.nested.when, "1970-01-01T00:00:00.000Z");
  back.s.value = { n: 2 };
  assert.deepEqual(back.s.peek(), { n: 2 }, "a revived signal is a live signal");
});

Deno.test("props that cannot travel are refused by name; script-breaking text is escaped", () => {
  assert.throws(() => toTransport({ onClick: () => {} }), /props\.onClick is a function/);
  const text = serializeState([{
    html: "</script><script>alert(1)</script>",
    amp: "&",
    line: "\u2028",
  }]);
  assert.doesNotMatch(text, /<\/script>/);
  assert.deepEqual(JSON.parse(text), [{
    html: "</script><script>alert(1)</script>",
    amp: "&",
    line: "\u2028",
  }]);
});

Deno.test("an island outside a page render is an error, not a silent static render", () => {
  const render = CounterIsland as (props: Parameters<typeof Counter>[0]) => unknown;
  assert.throws(
    () => render({ label: "x", start: signal(0), tags: [] }),
    /outside renderWithIslands/,
  );
});
