/**
 * The real posthog-node against a Beacon started by the test: capture, identify and alias
 * land as events with their persons linked; and a batch whose connection drops after
 * Beacon stored it (the answer never reaches the SDK) is sent again by the SDK's own retry
 * and stored once.
 */
import assert from "node:assert/strict";
import { PostHog } from "posthog-node";
import { startTestBeacon } from "./support/beacon.ts";
import { createUser } from "./support/app.ts";

const KEY = "bk_posthog_node_key_0123456789";
/** The team's existing PostHog project key, configured as Beacon's second key. */
const PROJECT_KEY = "phc_NodeTeamProjectKey0123456789abcdefghij";

/**
 * A TCP proxy in front of Beacon that, when told to, forwards the next request (on
 * whichever connection it comes), waits for Beacon's first bytes of answer (so the batch is
 * committed) and then drops that connection without passing the answer on.
 */
function droppingProxy(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let dropNext = false;
  let dropped = 0;
  const writeAll = async (conn: Deno.Conn, bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  };
  const closeAll = (...conns: Deno.Conn[]) => {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
      open.delete(conn);
    }
  };
  const handle = async (client: Deno.Conn) => {
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
    open.add(client).add(upstream);
    let dropThis = false;
    const pump = async (from: Deno.Conn, to: Deno.Conn, toBeacon: boolean) => {
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (toBeacon && dropNext && !dropThis) {
          dropNext = false;
          dropThis = true;
        }
        if (!toBeacon && dropThis) {
          dropped++;
          closeAll(client, upstream);
          return;
        }
        await writeAll(to, buffer.subarray(0, n));
      }
      closeAll(client, upstream);
    };
    await Promise.all([
      pump(client, upstream, true).catch(() => closeAll(client, upstream)),
      pump(upstream, client, false).catch(() => closeAll(client, upstream)),
    ]);
  };
  (async () => {
    for await (const conn of listener) handle(conn).catch(() => {});
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    dropNextRequest: () => (dropNext = true),
    dropped: () => dropped,
    close() {
      listener.close();
      closeAll(...open);
    },
  };
}

Deno.test({
  name:
    "posthog-node against Beacon: capture, identify and alias are stored with persons linked; a batch retried after a dropped connection is stored once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const beacon = await startTestBeacon({ ingestKey: KEY, posthogProjectKey: PROJECT_KEY });
    const proxy = droppingProxy(Number(new URL(beacon.url).port));
    const client = new PostHog(KEY, {
      host: proxy.url,
      flushAt: 100,
      flushInterval: 0,
      fetchRetryDelay: 50,
      fetchRetryCount: 3,
    });
    const rows = (where: string, params: unknown[] = []) =>
      beacon.db.query<
        {
          id: string;
          event_type: string;
          user_id: string | null;
          anonymous_id: string | null;
          payload: Record<string, unknown>;
        }
      >(
        `select id::text, event_type, user_id::text, anonymous_id, payload
           from public.events where ${where} order by seq`,
        params,
      );
    try {
      const userId = await createUser(beacon.db, "server@posthog-node.test");

      await t.step("capture, identify and alias land with their persons", async () => {
        client.capture({
          distinctId: "node-visitor",
          event: "report_exported",
          properties: { format: "csv", rows: 120 },
        });
        client.identify({
          distinctId: userId,
          properties: { $anon_distinct_id: "node-visitor", email: "server@posthog-node.test" },
        });
        client.alias({ distinctId: userId, alias: "node-second-device" });
        client.capture({ distinctId: userId, event: "invoice_paid", properties: { cents: 900 } });
        await client.flush();
        const stored = await rows("event_type <> 'user_signup'");
        assert.deepEqual(stored.map((r) => [r.event_type, r.user_id, r.anonymous_id]), [
          ["report_exported", null, "node-visitor"],
          ["$identify", userId, "node-visitor"],
          ["$create_alias", userId, "node-second-device"],
          ["invoice_paid", userId, null],
        ]);
        assert.equal(stored[0].payload.format, "csv");
        assert.equal(stored[0].payload.$lib, "posthog-node");
        const links = await beacon.db.query<{ anonymous_id: string; user_id: string }>(
          "select anonymous_id, user_id::text from analytics.person_links order by 1",
        );
        assert.deepEqual(links, [
          { anonymous_id: "node-second-device", user_id: userId },
          { anonymous_id: "node-visitor", user_id: userId },
        ]);
        const [person] = await beacon.db.query<{ properties: Record<string, unknown> }>(
          "select properties from analytics.person_properties where person_id = $1",
          [userId],
        );
        assert.equal(person.properties.email, "server@posthog-node.test");
      });

      await t.step(
        "a batch whose answer is lost is retried by the SDK and stored once",
        async () => {
          const before = (await rows("true")).length;
          proxy.dropNextRequest();
          const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
          for (const uuid of ids) {
            client.capture({ distinctId: "node-retry", event: "retried", uuid });
          }
          await client.flush();
          assert.equal(proxy.dropped(), 1, "the first attempt's connection was dropped");
          const stored = await rows("anonymous_id = 'node-retry'");
          assert.deepEqual(stored.map((r) => r.id), ids, "each event stored once, under its uuid");
          assert.equal((await rows("true")).length, before + 3);
        },
      );

      await t.step(
        "an SDK keeping the team's PostHog project key (the second key) stores its events; a wrong key stores none",
        async () => {
          const second = new PostHog(PROJECT_KEY, {
            host: beacon.url,
            flushAt: 100,
            flushInterval: 0,
          });
          const wrong = new PostHog("phc_SomeOtherProjectsKey0123456789abcdef", {
            host: beacon.url,
            flushAt: 100,
            flushInterval: 0,
            fetchRetryCount: 0,
          });
          const errors: unknown[] = [];
          wrong.on("error", (error) => errors.push(error));
          try {
            const ids = [crypto.randomUUID(), crypto.randomUUID()];
            for (const uuid of ids) {
              second.capture({ distinctId: "node-second-key", event: "kept_key", uuid });
            }
            await second.flush();
            assert.deepEqual(
              (await rows("anonymous_id = 'node-second-key'")).map((r) => r.id),
              ids,
            );
            wrong.capture({ distinctId: "node-wrong-key", event: "wrong_key" });
            await wrong.flush().catch((error) => errors.push(error));
            assert.equal((await rows("anonymous_id = 'node-wrong-key'")).length, 0);
            assert.ok(
              errors.some((e) => /401/.test(String((e as Error)?.message ?? e))),
              `the SDK was told 401: ${errors.map(String).join("; ")}`,
            );
          } finally {
            await second.shutdown().catch(() => {});
            await wrong.shutdown().catch(() => {});
          }
        },
      );
    } finally {
      await client.shutdown().catch(() => {});
      proxy.close();
      await beacon.shutdown();
    }
  },
});
