/**
 * `deno task start` as a new user runs it: a fresh data directory gets the migrations,
 * the demo data and a summary; a second start applies nothing and loads nothing again.
 */
import assert from "node:assert/strict";

async function start(dataDir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { BEACON_DATA_DIR: dataDir, DATABASE_URL: "", BEACON_SEED: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `start failed:\n${text}`);
  return text;
}

Deno.test("the first start migrates and seeds the embedded database; the second changes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-start-" });
  try {
    const first = await start(dir);
    assert.match(
      first,
      /database: embedded, migrations at \d{14} \(\d+ applied now\), demo data loaded/,
    );
    assert.match(first, /total_users: 401/);
    assert.match(first, /total_signups: 401/);
    const second = await start(dir);
    assert.match(second, /\(0 applied now\)/);
    assert.doesNotMatch(second, /demo data loaded/);
    assert.match(second, /total_users: 401/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
