/**
 * Beacon's Supabase Edge Function (`supabase/functions/beacon/index.ts`) in a process of its
 * own, with the permissions Supabase's edge runtime gives a function and nothing more:
 * network and environment, reads of its own folder (and `/tmp`), writes to `/tmp` only, no
 * subprocesses, no FFI, no system information. Requests are made as Supabase's gateway
 * hands them over: under `/beacon/...`.
 *
 * @module
 */

/** The function's folder. */
export const FUNCTION_DIR = new URL("../../supabase/functions/beacon/", import.meta.url).pathname;
const ENTRY = `${FUNCTION_DIR}index.ts`;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** The Deno flags standing in for the edge runtime's sandbox. */
export const EDGE_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  `--allow-read=${FUNCTION_DIR.replace(/\/$/, "")},/tmp`,
  "--allow-write=/tmp",
  "--no-prompt",
];

/** A running function. */
export interface EdgeFunction {
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  /** `origin` + `/beacon`: where the gateway sends `/functions/v1/beacon/...`. */
  url: string;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Stops it. */
  stop(): Promise<void>;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/** Which entry runs, with which flags. */
export interface EntrySpec {
  /** The entry file. */
  entry: string;
  /** Its permission (and other) flags. */
  flags: string[];
}

const FUNCTION: EntrySpec = { entry: ENTRY, flags: EDGE_PERMISSIONS };

/** The repository's root (Deno Deploy's project folder). */
export const PROJECT_DIR = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Deno Deploy's entry (`deploy.ts`) with Deploy's sandbox: network, environment, reads of
 * the deployed project, no writes at all, no subprocesses, no FFI; `Deno.cron` only when
 * `cron` (locally it needs `--unstable-cron`; without it `Deno.cron` does not exist).
 *
 * @param cron Whether `Deno.cron` exists.
 * @returns The spec for {@linkcode startEdgeFunction}.
 */
export function denoDeployEntry(cron: boolean): EntrySpec {
  return {
    entry: `${PROJECT_DIR}/deploy.ts`,
    flags: [
      "--allow-net",
      "--allow-env",
      `--allow-read=${PROJECT_DIR}`,
      "--no-prompt",
      ...(cron ? ["--unstable-cron"] : []),
    ],
  };
}

function command(env: Record<string, string>, spec: EntrySpec = FUNCTION): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...spec.flags, "--config", CONFIG, spec.entry],
    env: { ...baseEnv(), PORT: "0", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Runs the function until it exits (for configurations it must refuse).
 *
 * @param env Its environment (nothing else is inherited but PATH, HOME and Deno's cache).
 * @returns Its exit code and stderr.
 */
export async function runEdgeFunctionToExit(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const out = await command(env).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Starts the function and waits until it listens; `stop()` it in a `finally`.
 *
 * @param env Its environment (nothing else is inherited but PATH, HOME and Deno's cache).
 * @param spec Another entry (e.g. {@linkcode denoDeployEntry}). @default {the function}
 * @returns The running function.
 */
export async function startEdgeFunction(
  env: Record<string, string>,
  spec: EntrySpec = FUNCTION,
): Promise<EdgeFunction> {
  const child = command(env, spec).spawn();
  let output = "";
  const decoder = new TextDecoder();
  let resolveOrigin: (origin: string) => void;
  let rejectOrigin: (error: Error) => void;
  const listening = new Promise<string>((resolve, reject) => {
    resolveOrigin = resolve;
    rejectOrigin = reject;
  });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      const match = /Listening on https?:\/\/[^:]+:(\d+)\//.exec(output);
      if (match) resolveOrigin(`http://127.0.0.1:${match[1]}`);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  child.status.then((status) =>
    rejectOrigin(new Error(`the function exited (${status.code}) before listening:\n${output}`))
  );
  let origin: string;
  try {
    origin = await listening;
  } catch (error) {
    await pumps;
    throw error;
  }
  return {
    origin,
    url: `${origin}/beacon`,
    output: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already ended
      }
      await child.status;
      await pumps;
    },
  };
}
