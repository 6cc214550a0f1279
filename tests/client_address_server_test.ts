/**
 * Per-address limits on a real server started as `deno task start` starts it: the client's
 * address reaches the app from the connection (and, from a trusted proxy, from
 * `X-Forwarded-For`), so one client's failures never lock out another.
 */
import assert from "node:assert/strict";
import { startTestBeacon } from "./support/beacon.ts";

const INGEST_KEY = "bk_client_address_test_0123456789";

Deno.test("behind a trusted proxy on a real server, failed ingest keys lock out only the client that sent them", async () => {
  const beacon = await startTestBeacon({
    ingestKey: INGEST_KEY,
    trustedProxies: ["127.0.0.1"],
  });
  try {
    const send = async (key: string, client: string) => {
      const res = await fetch(`${beacon.url}/api/v1/events`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          apikey: key,
          "x-forwarded-for": client,
        },
        body: JSON.stringify({ event: "page_view", anonymous_id: "device-1" }),
      });
      await res.body?.cancel();
      return res.status;
    };
    for (let i = 0; i < 20; i++) {
      assert.equal(await send(`bk_wrong_guess_${i}_0123456789`, "203.0.113.1"), 401);
    }
    assert.equal(await send(INGEST_KEY, "203.0.113.1"), 429, "the guessing client is locked out");
    assert.equal(await send(INGEST_KEY, "203.0.113.2"), 200, "another client is not");
  } finally {
    await beacon.shutdown();
  }
});
