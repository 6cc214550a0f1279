import assert from "node:assert/strict";
import { parseFlags } from "./cli.ts";
import { openPglite } from "./pglite.ts";

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
        new URL("./cli.ts", import.meta.url).pathname,
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
