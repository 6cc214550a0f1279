/**
 * The edge entry against the server's: cold start (a new process, from spawn until the first
 * request is answered: Deno's start, the import graph, the entry's start work, one health
 * check) and a warm ingestion request's latency (one event per request, sequential, after
 * warming up). The Supabase function runs in the edge runtime's sandbox
 * (`tests/support/edge_function.ts`) under `/beacon`; the server is `main.ts` on the same
 * PostgreSQL 15 (its start checks the migrations, as it does in production).
 *
 * Standalone: `deno run -A bench/edge.ts` (starts its own PostgreSQL 15).
 *
 * @module
 */
import { EDGE_PERMISSIONS, FUNCTION_DIR } from "../tests/support/edge_function.ts";
import { startOwnMigratedPostgres15 } from "../tests/support/database.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const INGEST_KEY = "bk_bench_edge_key_0123456789";
const RUNS = 5;
const REQUESTS = 200;

/** What {@linkcode benchEdge} measured, in milliseconds (medians of {@linkcode RUNS} starts). */
export interface EdgeBench {
  /** The Supabase function's cold start. */
  edgeColdStartMs: number;
  /** The server's (`main.ts`) cold start. */
  serverColdStartMs: number;
  /** `edgeColdStartMs / serverColdStartMs`. */
  coldStartRatio: number;
  /** A warm one-event ingestion request to the function: p50 and p95. */
  edgeIngestP50: number;
  edgeIngestP95: number;
  /** The same to the server. */
  serverIngestP50: number;
  serverIngestP95: number;
}

interface Started {
  url: string;
  stop(): Promise<void>;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function start(which: "edge" | "server", dbUrl: string): Promise<Started> {
  const args = which === "edge"
    ? ["run", ...EDGE_PERMISSIONS, "--config", `${ROOT}deno.json`, `${FUNCTION_DIR}index.ts`]
    : ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}main.ts`];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: {
      PORT: "0",
      BEACON_INGEST_KEY: INGEST_KEY,
      ...(which === "edge"
        ? { SUPABASE_DB_URL: dbUrl, SUPABASE_URL: "http://127.0.0.1:9" }
        : { DATABASE_URL: dbUrl }),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const url = await new Promise<string>((resolve, reject) => {
    const pattern = which === "edge"
      ? /Listening on https?:\/\/[^:]+:(\d+)\//
      : /Beacon is running at http:\/\/[^:]+:(\d+)/;
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        output += decoder.decode(chunk, { stream: true });
        const match = pattern.exec(output);
        if (match) {
          resolve(`http://127.0.0.1:${match[1]}${which === "edge" ? "/beacon" : ""}`);
        }
      }
    };
    pump(child.stdout);
    pump(child.stderr);
    child.status.then((s) => reject(new Error(`${which} exited (${s.code}):\n${output}`)));
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function coldStart(which: "edge" | "server", dbUrl: string): Promise<number> {
  const began = performance.now();
  const running = await start(which, dbUrl);
  try {
    const res = await fetch(`${running.url}/api/v1/health`);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`${which}: health answered ${res.status}`);
    return performance.now() - began;
  } finally {
    await running.stop();
  }
}

async function ingestLatencies(url: string): Promise<number[]> {
  const send = async () => {
    const began = performance.now();
    const res = await fetch(`${url}/api/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", apikey: INGEST_KEY },
      body: JSON.stringify({ event: "bench_edge", anonymous_id: "bench" }),
    });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`ingestion answered ${res.status}`);
    return performance.now() - began;
  };
  for (let i = 0; i < 20; i++) await send();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) times.push(await send());
  return times;
}

/**
 * Measures cold starts and warm ingestion of the Supabase function and the server.
 *
 * @param dbUrl A migrated PostgreSQL 15, as `postgres`.
 * @param log Progress lines. @default {none}
 * @returns The figures.
 */
export async function benchEdge(
  dbUrl: string,
  log: (line: string) => void = () => {},
): Promise<EdgeBench> {
  log("edge function against the server: cold start and warm ingestion");
  const edge: number[] = [];
  const server: number[] = [];
  await coldStart("server", dbUrl); // Deno's caches warm for both
  await coldStart("edge", dbUrl);
  for (let run = 0; run < RUNS; run++) {
    server.push(await coldStart("server", dbUrl));
    edge.push(await coldStart("edge", dbUrl));
  }
  const latencies = async (which: "edge" | "server") => {
    const running = await start(which, dbUrl);
    try {
      return await ingestLatencies(running.url);
    } finally {
      await running.stop();
    }
  };
  const edgeIngest = await latencies("edge");
  const serverIngest = await latencies("server");
  const edgeColdStartMs = percentile(edge, 50);
  const serverColdStartMs = percentile(server, 50);
  return {
    edgeColdStartMs,
    serverColdStartMs,
    coldStartRatio: edgeColdStartMs / serverColdStartMs,
    edgeIngestP50: percentile(edgeIngest, 50),
    edgeIngestP95: percentile(edgeIngest, 95),
    serverIngestP50: percentile(serverIngest, 50),
    serverIngestP95: percentile(serverIngest, 95),
  };
}

/**
 * The report's section for these figures (empty when not measured).
 *
 * @param e What {@linkcode benchEdge} measured.
 * @returns Markdown.
 */
export function edgeSection(e: EdgeBench | undefined): string {
  if (!e) return "";
  const f = (ms: number) => ms.toFixed(1);
  return `### The edge function against the server

| entry | cold start (spawn → first answer), median of ${RUNS} | warm ingestion p50 | p95 |
| --- | --- | --- | --- |
| Supabase function (edge sandbox, under /beacon) | ${f(e.edgeColdStartMs)} ms | ${
    f(e.edgeIngestP50)
  } ms | ${f(e.edgeIngestP95)} ms |
| server (main.ts) | ${f(e.serverColdStartMs)} ms | ${f(e.serverIngestP50)} ms | ${
    f(e.serverIngestP95)
  } ms |

The function's cold start is ${(e.coldStartRatio * 100).toFixed(0)}% of the server's.
`;
}

/**
 * The target: the edge entry's cold start at most 50 % above the server's.
 *
 * @param e What {@linkcode benchEdge} measured.
 * @returns Whether it was met, and the figure.
 */
export function edgeTarget(e: EdgeBench): [boolean, string] {
  return [
    e.coldStartRatio <= 1.5,
    `${(e.coldStartRatio * 100).toFixed(0)}% of the server's (${e.edgeColdStartMs.toFixed(0)} vs ${
      e.serverColdStartMs.toFixed(0)
    } ms)`,
  ];
}

if (import.meta.main) {
  const { pg, db } = await startOwnMigratedPostgres15();
  try {
    console.log(JSON.stringify(await benchEdge(pg.url, console.error), null, 2));
  } finally {
    await db.close();
    await pg.stop();
  }
}
