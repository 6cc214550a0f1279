import assert from "node:assert/strict";
import { DataDirInUseError, lockDataDir } from "./lock.ts";
import { openDatabase } from "./open.ts";

const embedded = (dataDir: string) => ({ kind: "embedded" as const, dataDir });

Deno.test("a second opener of an embedded data directory is refused with the holder's pid, and the first's data is unharmed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-lock-" });
  try {
    const first = await openDatabase(embedded(dir));
    try {
      await first.db.exec("create table public.kept (n int); insert into public.kept values (42);");
      const refused = await openDatabase(embedded(dir)).then(
        () => assert.fail("the second opener got the data directory"),
        (error) => error,
      );
      assert.ok(refused instanceof DataDirInUseError, String(refused));
      assert.equal(refused.pid, Deno.pid);
      assert.equal(
        refused.message,
        `the data directory ${dir} is in use by process ${Deno.pid} (another Beacon or a deno task); stop it first`,
      );
      assert.deepEqual(await first.db.query("select n from public.kept"), [{ n: 42 }]);
    } finally {
      await first.db.close();
    }
    // Closing releases the lock; the data is still there for the next owner.
    const again = await openDatabase(embedded(dir));
    try {
      assert.deepEqual(await again.db.query("select n from public.kept"), [{ n: 42 }]);
    } finally {
      await again.db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts a process that takes the lock and waits; resolves once it holds it. */
async function holdInAnotherProcess(dir: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { lockDataDir } from ${JSON.stringify(new URL("./lock.ts", import.meta.url).href)};
       await lockDataDir(${JSON.stringify(dir)});
       console.log("locked");
       setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the holder exited before locking: ${seen}`);
    seen += value;
  }
  reader.releaseLock();
  return child;
}

Deno.test("the data directory lock names another process and dies with it, even under kill -9", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beacon-lock-" });
  try {
    const holder = await holdInAnotherProcess(dir);
    try {
      await assert.rejects(
        () => lockDataDir(dir),
        (error: unknown) =>
          error instanceof DataDirInUseError && error.pid === holder.pid &&
          error.message.includes(`in use by process ${holder.pid}`),
      );
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel().catch(() => {});
    }
    // The pid file is still there, but the kernel lock went with the process.
    const lock = await lockDataDir(dir);
    assert.equal((await Deno.readTextFile(lock.path)).trim(), String(Deno.pid));
    lock.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
