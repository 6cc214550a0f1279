/**
 * The shared suites' Beacon on the edge (`BEACON_TEST_TARGET=edge`, see `target.ts`): the
 * Supabase Edge Function's entry in a process of its own with the edge runtime's
 * permissions (`edge_function.ts`), on a migrated PostgreSQL 15 database, with Supabase Auth
 * played by the local GoTrue stand-in, and pages on (a custom domain; the default domain's
 * plain-text pointer is tested in `tests/edge_function_test.ts`).
 *
 * It answers `app.request(path, init, { remoteAddr })` as the server's Hono app does, so the
 * suites run unchanged, by playing Supabase's gateway: the request goes to `/beacon<path>`,
 * from the peer address given as `X-Forwarded-For` (appended, as a proxy does), with the
 * suite's `Origin` and `Referer` (`http://localhost`) made the function's own. On the way back it checks that every address the
 * browser would follow (the `Location`, each cookie's `Path`, the links, form actions,
 * sources and module imports of HTML) is under the public path `/functions/v1/beacon`, and
 * fails the request otherwise; then it gives the suite those addresses as the server would
 * have written them, without the prefix.
 *
 * @module
 */
import type { BeaconConfigInput } from "../../config/mod.ts";
import type { Database } from "../../database/mod.ts";
import { postgresUrlOf, startMigratedPostgres15 } from "./database.ts";
import { startEdgeFunction } from "./edge_function.ts";
import { fakeSupabaseAuth } from "./fake_supabase_auth.ts";

/** Where browsers see the function (Supabase's gateway path). */
export const EDGE_PUBLIC_PATH = "/functions/v1/beacon";

/** What the suites call on an app: Hono's `request`. */
export interface RequestableApp {
  /** Answers a request, as `Hono.request` does. */
  request(
    input: string | URL | Request,
    init?: RequestInit,
    env?: { remoteAddr?: { hostname: string } } | Record<string, unknown>,
  ): Response | Promise<Response>;
}

/** Every setting of {@linkcode BeaconConfigInput} the edge harness can pass as a variable. */
function settingsFor(config: BeaconConfigInput): Record<string, string> {
  const env: Record<string, string> = {};
  const { limits, trustedProxies, posthogProjectKey, ...rest } = config;
  const names: Record<string, string> = {
    maxBodyBytes: "BEACON_MAX_BODY_BYTES",
    maxBatchEvents: "BEACON_MAX_BATCH_EVENTS",
    statementTimeoutMs: "BEACON_STATEMENT_TIMEOUT_MS",
  };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!names[key]) throw new Error(`the edge harness cannot set limits.${key}`);
    env[names[key]] = String(value);
  }
  // The gateway (this process, 127.0.0.1) is the function's only peer; the suite's
  // proxies stand behind it.
  if (posthogProjectKey) env.BEACON_POSTHOG_PROJECT_KEY = posthogProjectKey;
  // The suites speak X-Forwarded-For, as behind the server's proxies; the default on Supabase
  // (cf-connecting-ip) has its own test in tests/edge_function_test.ts.
  env.BEACON_CLIENT_ADDRESS_HEADER = "none";
  env.BEACON_TRUSTED_PROXIES = ["127.0.0.1/32", ...(trustedProxies ?? [])].join(",");
  const unknown = Object.keys(rest).filter((key) => key !== "seedDemoData");
  if (unknown.length > 0) {
    throw new Error(`the edge harness cannot set ${unknown.join(", ")}: make the case server-only`);
  }
  return env;
}

function rebase(address: string, where: string): string {
  if (!address.startsWith("/") || address.startsWith("//")) return address;
  if (address === EDGE_PUBLIC_PATH || /^\/functions\/v1\/beacon[/?#]/.test(address)) {
    return address.slice(EDGE_PUBLIC_PATH.length) || "/";
  }
  throw new Error(
    `${where} ${address} is not under ${EDGE_PUBLIC_PATH}: on Supabase it leads nowhere`,
  );
}

const HTML_ADDRESS = /(\s(?:href|action|src|formaction)="|\bfrom\s*"|\bimport\(\s*")(\/[^"]*)"/g;

/** The gateway's answer, as the suite expects the server's: checked, then without the prefix. */
async function asTheServerWrites(response: Response, what: string): Promise<Response> {
  const headers = new Headers(response.headers);
  const location = headers.get("location");
  if (location) headers.set("location", rebase(location, `${what}: Location`));
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) {
    headers.delete("set-cookie");
    for (const cookie of cookies) {
      const path = /;\s*Path=([^;]*)/i.exec(cookie)?.[1];
      if (path !== EDGE_PUBLIC_PATH) {
        throw new Error(`${what}: cookie path ${path} is not ${EDGE_PUBLIC_PATH}: ${cookie}`);
      }
      headers.append("set-cookie", cookie.replace(/;\s*Path=[^;]*/i, "; Path=/"));
    }
  }
  const nullBody = [101, 204, 205, 304].includes(response.status);
  if (nullBody || !/^text\/html\b/i.test(headers.get("content-type") ?? "")) {
    return new Response(nullBody ? null : response.body, { status: response.status, headers });
  }
  const html = (await response.text()).replace(
    HTML_ADDRESS,
    (_, before: string, address: string) => `${before}${rebase(address, `${what}: page address`)}"`,
  );
  headers.delete("content-length");
  return new Response(html, { status: response.status, headers });
}

type Auth = Awaited<ReturnType<typeof fakeSupabaseAuth>>;
const projects = new Map<Database, { auth: Auth; users: number }>();

/**
 * The GoTrue stand-in of a database: functions on one database are one Supabase project, with
 * one Auth, so a token one of them issued is good at the others.
 */
async function authOf(db: Database): Promise<Auth & { release(): Promise<void> }> {
  let project = projects.get(db);
  if (!project) {
    // GoTrue checks passwords against auth.users (bcrypt); so does its stand-in here, so the
    // suites' accounts (`beacon.create_user`) sign in through Supabase Auth on the edge.
    const accounts = async (email: string, password: string) => {
      const rows = await db.query<{ id: string; email: string }>(
        `select id::text, email from auth.users
          where lower(email) = lower($1)
            and encrypted_password = extensions.crypt($2, encrypted_password)`,
        [email, password],
      );
      return rows[0] ?? null;
    };
    project = { auth: await fakeSupabaseAuth({ accounts }), users: 0 };
    projects.set(db, project);
  }
  const shared = project;
  shared.users++;
  const { auth } = shared;
  return {
    ...auth,
    async release() {
      if (--shared.users > 0) return;
      projects.delete(db);
      await auth.close();
    },
  };
}

/**
 * Starts the edge function for a suite, on `options.db` (a PostgreSQL 15 test database) or a
 * new migrated one.
 *
 * @param options The database to share and configuration overrides (those with a variable).
 * @returns What `createTestApp` returns: the app, the database, a token maker, `close()`.
 */
export async function createEdgeTestApp(
  options: { db?: Database; config?: BeaconConfigInput; ingestKey: string },
) {
  let own: Awaited<ReturnType<typeof startMigratedPostgres15>> | null = null;
  let db = options.db;
  if (!db) {
    own = await startMigratedPostgres15();
    db = own.db;
  }
  const url = postgresUrlOf(db);
  if (!url) throw new Error("the edge function needs a PostgreSQL 15 test database, not PGlite");
  const auth = await authOf(db);
  let fn: Awaited<ReturnType<typeof startEdgeFunction>>;
  try {
    fn = await startEdgeFunction({
      SUPABASE_DB_URL: url,
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: "sb_publishable_edge_suites",
      SUPABASE_SERVICE_ROLE_KEY: "service-role-key-of-the-edge-suites-0123456789",
      BEACON_INGEST_KEY: options.ingestKey,
      BEACON_SERVE_PAGES: "true",
      ...settingsFor(options.config ?? {}),
    });
  } catch (error) {
    await auth.release();
    if (own) {
      await own.db.close();
      await own.pg.stop();
    }
    throw error;
  }
  const app: RequestableApp = {
    async request(input, init = {}, env = {}) {
      const request = input instanceof Request ? input : new Request(
        new URL(String(input), "http://localhost"),
        init,
      );
      const target = new URL(request.url);
      const headers = new Headers(request.headers);
      const peer = (env as { remoteAddr?: { hostname: string } }).remoteAddr?.hostname;
      if (peer) {
        const forwarded = headers.get("x-forwarded-for");
        headers.set("x-forwarded-for", forwarded ? `${forwarded}, ${peer}` : peer);
      }
      // The suite's site is `http://localhost`; the function's is its own address (fetch
      // cannot send another Host): a page of the suite's site is a page of the function's.
      for (const name of ["origin", "referer"]) {
        const value = headers.get(name);
        const sent = value && URL.canParse(value) ? new URL(value) : null;
        if (sent?.host === target.host) {
          sent.host = new URL(fn.origin).host;
          headers.set(name, name === "origin" ? sent.origin : sent.href);
        }
      }
      const what = `${request.method} ${target.pathname}`;
      // A body given whole is sent whole (with its length); a stream stays a stream.
      const body = init.body instanceof ReadableStream
        ? request.body
        : request.body
        ? await request.arrayBuffer()
        : null;
      const response = await fetch(`${fn.url}${target.pathname}${target.search}`, {
        method: request.method,
        headers,
        body,
        redirect: "manual",
        signal: request.signal,
      });
      return await asTheServerWrites(response, what);
    },
  };
  return {
    app,
    db,
    /** An access token for a user, as Supabase Auth (the GoTrue stand-in) issues them. */
    token: (userId: string, expiresInSeconds = 3600) => auth.token(userId, expiresInSeconds),
    /** What the function wrote so far (for a failing test's message). */
    output: () => fn.output(),
    async close() {
      await fn.stop();
      await auth.release();
      if (own) {
        await own.db.close();
        await own.pg.stop();
      }
    },
  };
}
