/**
 * Ingestion against slow senders, over real sockets: a server process of its own (so its
 * memory is measured apart from the test's), clients that declare a large body and send
 * it one byte at a time.
 */
import assert from "node:assert/strict";
import { TEST_INGEST_KEY } from "./support/app.ts";

const BODY_TIMEOUT_MS = 10_000;
const TRICKLERS = 8;
const BYTES_EACH = 2000;

async function startServer(config: unknown) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./support/ingest_server.ts", import.meta.url).pathname,
      JSON.stringify(config),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the test server stopped before listening");
    text += value;
  }
  lines.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { port } = JSON.parse(text);
  return {
    port,
    /** The server's resident memory in MB. */
    async rssMb(): Promise<number> {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
    },
    async stop() {
      await child.stdin.close();
      await child.status;
    },
  };
}

const encoder = new TextEncoder();
const head = [
  "POST /api/v1/events HTTP/1.1",
  "host: 127.0.0.1",
  "content-type: application/json",
  `apikey: ${TEST_INGEST_KEY}`,
  "content-length: 1000000",
  "",
  "",
].join("\r\n");

/** Reads what the server answers until it closes or the head and a JSON body are in. */
async function readAnswer(conn: Deno.Conn, withinMs: number): Promise<string> {
  const deadline = Date.now() + withinMs;
  const buffer = new Uint8Array(4096);
  let text = "";
  while (Date.now() < deadline && !/\r\n\r\n[\s\S]*\}/.test(text)) {
    const n = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"late">((resolve) => setTimeout(() => resolve("late"), deadline - Date.now())),
    ]);
    if (n === null || n === "late") break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test({
  name:
    "slow bodies sent a byte at a time: memory stays bounded, each is answered 408 after the body timeout, and bodies over the in-flight cap get 503",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startServer({
      limits: { bodyTimeoutMs: BODY_TIMEOUT_MS, maxBodiesInFlight: TRICKLERS },
    });
    const conns: Deno.Conn[] = [];
    try {
      const before = await server.rssMb();
      for (let i = 0; i < TRICKLERS; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        conn.setNoDelay(true);
        conns.push(conn);
      }
      const started = Date.now();
      let sent = 0;
      const trickles = conns.map(async (conn) => {
        await conn.write(encoder.encode(head));
        for (let i = 0; i < BYTES_EACH; i++) {
          try {
            await conn.write(Uint8Array.of(0x20));
          } catch {
            break; // the server answered and closed
          }
          sent++;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      });

      // While every slot is taken, one more body is turned away at once.
      while (sent < TRICKLERS * 100) await new Promise((resolve) => setTimeout(resolve, 20));
      const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      conns.push(extra);
      await extra.write(encoder.encode(head + "{"));
      const busy = await readAnswer(extra, 30_000);
      assert.match(busy, /^HTTP\/1\.1 503/, busy);
      assert.match(busy, /retry-after: 1\r\n/i, busy);
      assert.match(busy, /"error":"busy"/, busy);

      await Promise.all(trickles);
      const after = await server.rssMb();
      console.log(
        `server RSS: ${before.toFixed(0)} MB before, ${
          after.toFixed(0)
        } MB after ${sent} one-byte segments on ${TRICKLERS} connections`,
      );
      assert.ok(
        after - before < 250,
        `the server grew from ${before.toFixed(0)} MB to ${after.toFixed(0)} MB`,
      );

      const answers = await Promise.all(
        conns.slice(0, TRICKLERS).map((conn) => readAnswer(conn, BODY_TIMEOUT_MS + 60_000)),
      );
      const waited = Date.now() - started;
      for (const answer of answers) {
        assert.match(answer, /^HTTP\/1\.1 408/, answer);
        assert.match(answer, /"error":"body_timeout"/, answer);
      }
      assert.ok(waited >= BODY_TIMEOUT_MS - 1000, `answered after ${waited} ms`);
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await server.stop();
    }
  },
});
