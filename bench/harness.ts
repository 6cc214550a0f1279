/**
 * What the benchmark scripts share: the PostgreSQL 15 settings `deno task bench` measures
 * with, a quiet Beacon (no nightly job, no demo data), and the commit a run measured.
 *
 * @module
 */
import { startBeacon } from "../app/start.ts";
import { type DatabaseConfig, defineConfig } from "../config/mod.ts";
import { silentLogger } from "../log/mod.ts";

/** The server settings of the benchmarks' own PostgreSQL 15 (BENCHMARKS.md states them). */
export const BENCH_POSTGRES_SETTINGS: Readonly<Record<string, string>> = {
  fsync: "on",
  shared_buffers: "2GB",
  work_mem: "64MB",
  maintenance_work_mem: "1GB",
  max_wal_size: "8GB",
  max_parallel_workers_per_gather: "2",
};

/**
 * Starts a quiet Beacon for the benchmarks: its own port on loopback, no nightly job, no demo
 * data, a fixed ingest key, silent.
 *
 * @param database The database it runs on.
 * @param islandsDir The built island bundles, for the page renders.
 * @returns The running Beacon.
 */
export function startBenchBeacon(database: DatabaseConfig, islandsDir?: string) {
  return startBeacon(
    defineConfig({
      port: 0,
      hostname: "127.0.0.1",
      database,
      seedDemoData: false,
      nightly: "never",
      ingestKey: "bk_bench_ingest_key_0123456789",
      islandsDir,
    }),
    { log: silentLogger, banner: () => {} },
  );
}

/**
 * The commit the figures are measured at (`-dirty` when the tree has uncommitted changes).
 *
 * @returns The short hash, or `unknown` outside a git checkout.
 */
export async function commitMeasured(): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output()
      .catch(() => null);
    return out?.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  const head = await git("rev-parse", "--short=12", "HEAD");
  if (!head) return "unknown";
  const dirty = await git("status", "--porcelain", "--untracked-files=no");
  return dirty ? `${head}-dirty` : head;
}
