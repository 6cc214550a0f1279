/**
 * `deno task start` as a new user runs it: a fresh data directory gets the migrations and
 * the demo data, the banner prints the address and the ingest key, health is ok within
 * 30 seconds, SIGTERM stops it cleanly; a second start applies and loads nothing again.
 */
import assert from "node:assert/strict";
import { lockDataDir } from "../database/lock.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function runOnce(dataDir: string): Promise<{ output: string; healthMs: number }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { BEACON_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: "", BEACON_SEED: "" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const started = Date.now();
  const output = (async () => {
    const [out, err] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    return out + err;
  })();
  let healthMs = -1;
  try {
    while (Date.now() - started < 30_000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
        const body = await res.json();
        if (res.status === 200 && body.status === "ok") {
          healthMs = Date.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  const text = await output;
  assert.ok(healthMs >= 0, `health was not ok within 30 s:\n${text}`);
  assert.equal(status.code, 0, `SIGTERM should stop Beacon cleanly:\n${text}`);
  assert.match(text, /"msg":"stopped"/);
  return { output: text, healthMs };
}

Deno.test("deno task start: health ok within 30 s on a fresh machine, clean stop, nothing redone on restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-start-" });
  try {
    const first = await runOnce(dir);
    console.log(`first start: health ok after ${first.healthMs} ms`);
    assert.match(first.output, /Beacon is running at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(first.output, /ingest key \(generated now.*\): bk_[\w-]{20,}/);
    assert.match(first.output, /sign in as admin@beacon\.local/);
    assert.match(first.output, /"applied_now":\d+,"seeded":true/);
    const key = /ingest key .*: (bk_[\w-]+)/.exec(first.output)![1];

    const second = await runOnce(dir);
    assert.match(second.output, /"applied_now":0,"seeded":false/);
    assert.doesNotMatch(second.output, /ingest key \(generated now/);
    assert.doesNotMatch(second.output, new RegExp(key), "the ingest key is printed only once");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad setting stops the start with a message naming it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { PORT: "eighty", BEACON_DATA_DIR: "memory://" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /Beacon cannot start: PORT: must be a port number/,
  );
});

async function startFails(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { DATABASE_URL: "", BEACON_SEED: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function assertOneLineRefusal(stderr: string, reason: RegExp): void {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, `exactly one line, no stack trace:\n${stderr}`);
  assert.match(lines[0], /^Beacon cannot start: /);
  assert.match(lines[0], reason);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

Deno.test("a start on a busy port fails in one line before opening the database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-start-" });
  const busy = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const { code, stderr } = await startFails({
      BEACON_DATA_DIR: `${dir}/data`,
      PORT: String(port),
    });
    assert.equal(code, 1);
    assertOneLineRefusal(stderr, new RegExp(`port ${port} .*already in use`));
    const created = [];
    for await (const entry of Deno.readDir(dir)) created.push(entry.name);
    assert.deepEqual(created, [], "the data directory was neither locked nor created");
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unreachable DATABASE_URL stops the start in one line, without a stack trace", async () => {
  const closed = freePort();
  const { code, stderr } = await startFails({
    DATABASE_URL: `postgres://postgres:secret-password@127.0.0.1:${closed}/postgres`,
    PORT: String(freePort()),
  });
  assert.equal(code, 1);
  assertOneLineRefusal(stderr, /cannot reach the database \(ECONNREFUSED/);
  assert.doesNotMatch(stderr, /secret-password/, "the password is not printed");
});

Deno.test("a data directory held by another process stops the start in one line naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-start-" });
  const lock = await lockDataDir(dir);
  try {
    const { code, stderr } = await startFails({ BEACON_DATA_DIR: dir, PORT: String(freePort()) });
    assert.equal(code, 1);
    assertOneLineRefusal(
      stderr,
      new RegExp(`the data directory ${dir} is in use by process ${Deno.pid}`),
    );
  } finally {
    lock.release();
    await Deno.remove(dir, { recursive: true });
  }
});
