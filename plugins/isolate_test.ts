import assert from "node:assert/strict";
import { deliverIsolating, HeldBack, type HeldEvent } from "./isolate.ts";
import { PluginError } from "./failure.ts";
import type { DeadLetter } from "./dead_letters.ts";
import type { BeaconPlugin, PluginEvent } from "./mod.ts";

function ev(n: number): PluginEvent {
  return {
    id: `id-${n}`,
    event: "e",
    userId: null,
    anonymousId: "v",
    properties: { n },
    timestamp: "2026-11-27T00:00:00.000Z",
    receivedAt: "2026-11-27T00:00:00.000Z",
  };
}

/** A destination that refuses any batch holding a poisoned event, as a whole (400). */
function refusingBatches(poisoned: Set<string>, named = false) {
  const delivered: string[] = [];
  let requests = 0;
  const plugin: BeaconPlugin = {
    name: "dest",
    onEvents(events) {
      requests++;
      const bad = events.filter((e) => poisoned.has(e.id)).map((e) => e.id);
      if (bad.length) {
        return Promise.reject(
          new PluginError("400 Bad Request", { status: 400, ...(named ? { eventIds: bad } : {}) }),
        );
      }
      delivered.push(...events.map((e) => e.id));
      return Promise.resolve();
    },
  };
  return { plugin, delivered, requests: () => requests };
}

/** Runs rounds as the forwarder does: from the cursor, until the batch is through. */
async function rounds(plugin: BeaconPlugin, events: PluginEvent[], limit = 3) {
  let cursor = 0;
  const letters: DeadLetter[] = [];
  const held = new Map<string, HeldEvent>();
  const heldBack: string[] = [];
  for (let round = 0; cursor < events.length && round < 20; round++) {
    try {
      await deliverIsolating({
        plugin,
        rows: events.slice(cursor),
        toEvent: (e) => e,
        commit(rows, dead) {
          assert.equal(rows[0], events[cursor], "commits follow the cursor, in order");
          cursor += rows.length;
          letters.push(...dead);
          return Promise.resolve();
        },
        permanentAttempts: limit,
        held,
        pause: () => Promise.resolve(),
        stopped: () => false,
      });
    } catch (error) {
      assert.ok(error instanceof HeldBack, String(error));
      heldBack.push(`${error.eventId}#${error.attempts}`);
    }
  }
  return { letters, heldBack, cursor };
}

Deno.test("a batch refused as a whole is split until the poisoned event is alone; the good ones go once", async () => {
  const events = Array.from({ length: 10 }, (_, i) => ev(i));
  const dest = refusingBatches(new Set(["id-6"]));
  const { letters, heldBack, cursor } = await rounds(dest.plugin, events);
  assert.equal(cursor, 10);
  assert.deepEqual(dest.delivered, events.map((e) => e.id).filter((id) => id !== "id-6"));
  assert.deepEqual(heldBack, ["id-6#1", "id-6#2"], "held back twice, alone");
  assert.deepEqual(letters.map((l) => [l.event.id, l.attempts, l.error]), [[
    "id-6",
    3,
    "400 Bad Request",
  ]]);
});

Deno.test("when the destination names the refused events, only they are retried alone", async () => {
  const events = Array.from({ length: 8 }, (_, i) => ev(i));
  const dest = refusingBatches(new Set(["id-2", "id-5"]), true);
  const { letters, cursor } = await rounds(dest.plugin, events, 2);
  assert.equal(cursor, 8);
  assert.deepEqual(dest.delivered, ["id-0", "id-1", "id-3", "id-4", "id-6", "id-7"]);
  assert.deepEqual(letters.map((l) => l.event.id), ["id-2", "id-5"]);
  // the batch; [0,1], [2] held; [2] dead; [2..7] again, [3,4], [5] held; [5] dead, [6,7]
  assert.equal(dest.requests(), 9, "no halving: straight to the named events");
});

Deno.test("a retryable failure is thrown as it is and nothing is committed", async () => {
  const plugin: BeaconPlugin = {
    name: "down",
    onEvents: () => Promise.reject(new PluginError("503", { status: 503, retryAfterMs: 7000 })),
  };
  let commits = 0;
  await assert.rejects(
    deliverIsolating({
      plugin,
      rows: [ev(1), ev(2)],
      toEvent: (e) => e,
      commit: () => Promise.resolve(void commits++),
      permanentAttempts: 3,
      held: new Map(),
      pause: () => Promise.resolve(),
      stopped: () => false,
    }),
    (e: PluginError) => e.retryAfterMs === 7000,
  );
  assert.equal(commits, 0);
});

Deno.test("events refused while the rest were taken are retried alone, then dead-lettered with the batch", async () => {
  let fixed = false;
  const sent: string[][] = [];
  const plugin: BeaconPlugin = {
    name: "partial",
    onEvents(events) {
      sent.push(events.map((e) => e.id));
      if (events.length === 1 && events[0].id === "id-3") fixed = true; // fixed on its retry
      const refused = events.filter((e) => e.id === "id-1" || (e.id === "id-3" && !fixed));
      return Promise.resolve({ refused: refused.map((e) => ({ id: e.id, error: "invalid" })) });
    },
  };
  const commits: Array<[string[], string[]]> = [];
  await deliverIsolating({
    plugin,
    rows: [ev(0), ev(1), ev(2), ev(3)],
    toEvent: (e) => e,
    commit(rows, dead) {
      commits.push([rows.map((r) => r.id), dead.map((d) => `${d.event.id}:${d.attempts}`)]);
      return Promise.resolve();
    },
    permanentAttempts: 3,
    held: new Map(),
    pause: () => Promise.resolve(),
    stopped: () => false,
  });
  assert.deepEqual(sent, [["id-0", "id-1", "id-2", "id-3"], ["id-1"], ["id-1"], ["id-3"]]);
  assert.deepEqual(commits, [[["id-0", "id-1", "id-2", "id-3"], ["id-1:3"]]]);
});

/** Takes batches but refuses `id-1`; alone, answers the queued failures first. */
function refusingThenUnavailable(failures: PluginError[]) {
  const sent: string[][] = [];
  const plugin: BeaconPlugin = {
    name: "flaky",
    onEvents(events) {
      sent.push(events.map((e) => e.id));
      if (events.length === 1 && failures.length) return Promise.reject(failures.shift());
      const refused = events.filter((e) => e.id === "id-1");
      return Promise.resolve({ refused: refused.map((e) => ({ id: e.id, error: "invalid" })) });
    },
  };
  return { plugin, sent };
}

async function deliverRecording(plugin: BeaconPlugin, maxUnavailable?: number) {
  const pauses: Array<[number, number | undefined]> = [];
  const commits: Array<[string[], string[]]> = [];
  const outcome = await deliverIsolating({
    plugin,
    rows: [ev(0), ev(1), ev(2)],
    toEvent: (e) => e,
    commit(rows, dead) {
      commits.push([rows.map((r) => r.id), dead.map((d) => `${d.event.id}:${d.attempts}`)]);
      return Promise.resolve();
    },
    permanentAttempts: 3,
    held: new Map(),
    pause: (attempt, retryAfterMs) => Promise.resolve(void pauses.push([attempt, retryAfterMs])),
    stopped: () => false,
    maxUnavailable,
  }).then(() => undefined, (error: unknown) => error);
  return { pauses, commits, outcome };
}

Deno.test("a refused event's retry answered 503 or 429 is waited out with a growing backoff and the Retry-After, not counted as a refusal", async () => {
  const dest = refusingThenUnavailable([
    new PluginError("503", { status: 503 }),
    new PluginError("429", { status: 429, retryAfterMs: 1500 }),
  ]);
  const { pauses, commits, outcome } = await deliverRecording(dest.plugin);
  assert.equal(outcome, undefined);
  // the batch; id-1 alone: 503, 429, refused (2), refused (3)
  assert.equal(dest.sent.length, 5);
  assert.deepEqual(pauses, [[1, undefined], [2, undefined], [3, 1500], [2, undefined]]);
  assert.deepEqual(commits, [[["id-0", "id-1", "id-2"], ["id-1:3"]]]);
});

Deno.test("when the destination stays unavailable past maxUnavailable, the batch it took is committed, the refused event dead-lettered, and the failure thrown", async () => {
  const down = () => new PluginError("503", { status: 503 });
  const dest = refusingThenUnavailable([down(), down(), down(), down(), down()]);
  const { commits, outcome } = await deliverRecording(dest.plugin, 3);
  assert.ok(outcome instanceof PluginError && outcome.status === 503, String(outcome));
  assert.equal(dest.sent.length, 4, "the batch, then three tries alone: no more");
  assert.deepEqual(commits, [[["id-0", "id-1", "id-2"], ["id-1:1"]]]);
});
