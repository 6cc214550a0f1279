/**
 * One process owns an embedded data directory. Before PGlite opens it, the owner takes an
 * exclusive kernel lock (flock) on `<dataDir>/beacon.lock` and writes its pid there. The
 * kernel drops the lock when the process ends, however it ends (kill -9 included), so a
 * stale file never blocks anyone; a second process finds the lock taken and is told which
 * pid holds it.
 *
 * @module
 */

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "beacon.lock";

/** The data directory is owned by another process. */
export class DataDirInUseError extends Error {
  /**
   * @param dataDir The data directory.
   * @param pid The holder's pid, when it could be read.
   */
  constructor(readonly dataDir: string, readonly pid: number | undefined) {
    super(
      `the data directory ${dataDir} is in use by ${
        pid === undefined ? "another process" : `process ${pid}`
      } (another Beacon or a deno task); stop it first`,
    );
    this.name = "DataDirInUseError";
  }
}

/** A held lock on a data directory. */
export interface DataDirLock {
  /** The lock file. */
  readonly path: string;
  /** Releases the lock (idempotent). The file stays; only the kernel lock matters. */
  release(): void;
}

async function readHolder(path: string): Promise<number | undefined> {
  // The holder writes its pid right after locking: give it a moment if the file is empty.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const pid = Number.parseInt((await Deno.readTextFile(path)).trim(), 10);
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      // unreadable: fall through
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

/**
 * Takes the data directory's lock without waiting (creating the directory when needed), or
 * throws {@linkcode DataDirInUseError} naming the holder's pid.
 *
 * @param dataDir The embedded data directory (e.g. `./data`).
 * @returns The held lock; release it after closing the database.
 *
 * @example
 * ```ts
 * const lock = await lockDataDir("./data");
 * try {
 *   // open PGlite in ./data/pg, work, close it
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir.replace(/\/+$/, "")}/${LOCK_FILE}`;
  // Not truncated on open: until we hold the lock, the pid in it is the holder's.
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked: boolean;
  try {
    locked = await file.tryLock(true);
  } catch (error) {
    file.close();
    throw error;
  }
  if (!locked) {
    file.close();
    throw new DataDirInUseError(dataDir, await readHolder(path));
  }
  try {
    await file.truncate(0);
    const bytes = new TextEncoder().encode(`${Deno.pid}\n`);
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
  } catch (error) {
    file.close();
    throw error;
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      file.close(); // closing the descriptor drops the flock
    },
  };
}
