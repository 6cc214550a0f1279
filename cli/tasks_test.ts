import assert from "node:assert/strict";
import { parseFlags } from "./tasks.ts";
import { openPglite } from "../database/pglite.ts";
import { openDatabase } from "../database/open.ts";
import { lockDataDir } from "../database/lock.ts";
import { ensureSetting } from "../database/settings.ts";
import { fakeWebhookReceiver } from "../tests/support/fake_services.ts";

Deno.test("flags: values, = values and switches", () => {
  assert.deepEqual(parseFlags(["--email", "a@b.c", "--superuser", "--password=x y"]), {
    email: "a@b.c",
    superuser: true,
    password: "x y",
  });
  assert.throws(() => parseFlags(["stray"]), /unexpected argument/);
});

Deno.test("deno task user:create adds a superuser who can sign in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-cli-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./tasks.ts", import.meta.url).pathname,
        "user:create",
        "--email",
        "Ops@Example.com",
        "--superuser",
      ],
      env: { BEACON_DATA_DIR: dir, DATABASE_URL: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    const password = /with password (\S+) \(shown once\)/.exec(text)?.[1];
    assert.ok(password, text);
    const db = await openPglite({ dataDir: `${dir}/pg` });
    try {
      const rows = await db.query<{ is_superuser: boolean }>(
        "select is_superuser from beacon.authenticate('ops@example.com', $1)",
        [password],
      );
      assert.deepEqual(rows, [{ is_superuser: true }]);
      assert.deepEqual(
        await db.query("select * from beacon.authenticate('ops@example.com', 'wrong')"),
        [],
      );
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const CLI = new URL("./tasks.ts", import.meta.url).pathname;

async function runCli(args: string[], dataDir: string, extraEnv: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { BEACON_DATA_DIR: dataDir, DATABASE_URL: "", BEACON_INGEST_KEY: "", ...extraEnv },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("user:create without --email prints its usage and exits 2 before creating the data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-cli-" });
  try {
    const dataDir = `${dir}/data`;
    const { code, stderr } = await runCli(["user:create", "--superuser"], dataDir);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /--email is required\nusage: .*user:create --email EMAIL/);
    assert.equal(await exists(dataDir), false, "nothing is created for a wrong command line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a CLI task refuses a data directory another process holds, naming its pid, and opens nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-cli-" });
  const lock = await lockDataDir(dir);
  try {
    for (
      const command of [
        ["migrate"],
        ["aggregate"],
        ["user:create", "--email", "x@example.com", "--superuser"],
      ]
    ) {
      const { code, stdout, stderr } = await runCli(command, dir);
      assert.equal(code, 1, `${command}: ${stdout}${stderr}`);
      assert.equal(
        stderr,
        `Beacon cannot start: the data directory ${dir} is in use by process ${Deno.pid} (another Beacon or a deno task); stop it first\n`,
        command.join(" "),
      );
    }
    // refused before PGlite created anything
    assert.equal(await exists(`${dir}/pg`), false);
  } finally {
    lock.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task ingest-key shows the stored ingest key again, for the owner of the data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-cli-" });
  try {
    const none = await runCli(["ingest-key"], dir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no embedded database in .* yet: start Beacon once/);

    const { db } = await openDatabase({ kind: "embedded", dataDir: dir });
    let key: string;
    try {
      key = (await ensureSetting(db, "ingest_key", () => "bk_lost_key_0123456789abcdef")).value;
    } finally {
      await db.close();
    }
    const shown = await runCli(["ingest-key"], dir);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, `${key}\n`, "only the key on stdout, so it can be captured");

    const lock = await lockDataDir(dir);
    try {
      const refused = await runCli(["ingest-key"], dir);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`in use by process ${Deno.pid}`));
      assert.equal(refused.stdout, "");
    } finally {
      lock.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task plugins:replay NAME hands the plugin its dead letters again once the destination is fixed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-cli-" });
  const hook = fakeWebhookReceiver();
  const event = {
    id: crypto.randomUUID(),
    event: "plan_chosen",
    userId: null,
    anonymousId: "v",
    properties: { name: "poison" },
    timestamp: "2026-11-27T00:00:00.000Z",
    receivedAt: "2026-11-27T00:00:01.000Z",
  };
  const env = {
    BEACON_WEBHOOK_URL: hook.url,
    BEACON_WEBHOOK_SECRET: "s3cret-s3cret-s3cret-s3cret",
  };
  try {
    const { db } = await openDatabase({ kind: "embedded", dataDir: dir });
    try {
      await db.query(
        `insert into beacon.plugin_dead_letters (plugin, event_id, event, error, attempts, first_failed_at, last_failed_at)
         values ('webhook', $1, $2::text::jsonb, 'webhook answered 422', 3, now(), now())`,
        [event.id, JSON.stringify(event)],
      );
    } finally {
      await db.close();
    }
    assert.equal((await runCli(["plugins:replay"], dir)).code, 2, "the NAME is required");
    const unknown = await runCli(["plugins:replay", "nobody"], dir, env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no plugin named "nobody" is configured \(configured: webhook\)/);

    hook.state.rejects = () => true;
    const refused = await runCli(["plugins:replay", "webhook"], dir, env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stdout, /webhook: replayed 0 dead letter\(s\), 1 refused again/);

    hook.state.rejects = () => false;
    const fixed = await runCli(["plugins:replay", "webhook"], dir, env);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stdout, /webhook: replayed 1 dead letter\(s\), 0 refused again/);
    assert.deepEqual(hook.received, [event], "the destination got the event as it was, once");
    const { db: after } = await openDatabase({ kind: "embedded", dataDir: dir });
    try {
      assert.deepEqual(await after.query("select * from beacon.plugin_dead_letters"), []);
    } finally {
      await after.close();
    }
  } finally {
    await hook.close();
    await Deno.remove(dir, { recursive: true });
  }
});
