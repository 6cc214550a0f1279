/**
 * Reading Beacon's configuration on the edge (a Supabase Edge Function, Deno Deploy), from
 * the platform's environment: what `config/from_env.ts` reads, plus the names Supabase
 * gives its functions (`SUPABASE_DB_URL`, `SUPABASE_PUBLISHABLE_KEYS` / `SUPABASE_ANON_KEY`,
 * `SUPABASE_SECRET_KEYS` / `SUPABASE_SERVICE_ROLE_KEY`) and the edge's own settings. What
 * only a server can do is refused with a message naming the setting: the embedded
 * database and local accounts.
 *
 * @module
 */
import { type BeaconConfigInput, ConfigError } from "./mod.ts";
import { configFromEnv } from "./from_env.ts";

/** Where the edge entry runs. */
export type EdgePlatform = "supabase" | "deno-deploy";

function firstKey(json: string | undefined, setting: string): string | undefined {
  if (!json) return undefined;
  try {
    const keys = JSON.parse(json) as Record<string, string>;
    return keys.default ?? Object.values(keys)[0];
  } catch {
    throw new ConfigError(setting, 'must be a JSON object such as {"default": "sb_..."}');
  }
}

function flag(setting: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  if (value !== "true" && value !== "false") {
    throw new ConfigError(setting, `must be true or false, not "${value}"`);
  }
  return value === "true";
}

/**
 * Reads the edge configuration. On top of `configFromEnv`'s settings:
 * `DATABASE_URL` (default `SUPABASE_DB_URL`), `SUPABASE_PUBLISHABLE_KEY` (default the
 * `default` of `SUPABASE_PUBLISHABLE_KEYS`, then `SUPABASE_ANON_KEY`), `BEACON_DRAIN_SECRET`
 * (default `SUPABASE_SERVICE_ROLE_KEY`, then the `default` of `SUPABASE_SECRET_KEYS`),
 * `BEACON_DRAIN_BUDGET_MS` (20000), `BEACON_BASE_PATH` and `BEACON_PUBLIC_PATH` (on Supabase
 * `/beacon` and `/functions/v1/beacon`; on Deno Deploy none), `BEACON_SERVE_PAGES` (on
 * Supabase `false`: its default domain turns HTML into plain text; `true` with a custom
 * domain; on Deno Deploy `true`), `BEACON_DASHBOARD_URL` (where the pointer sends people) and
 * `BEACON_ISLANDS_DIR` (where the built bundles are; default: the entry's own). On Supabase
 * `BEACON_TRUSTED_PROXIES` defaults to every address: only its gateway reaches a function.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @param platform Where the entry runs.
 * @returns The configuration input.
 * @throws {ConfigError} For the embedded database or local accounts, which are server-only.
 */
export function configFromEdgeEnv(
  env: Record<string, string | undefined>,
  platform: EdgePlatform,
): BeaconConfigInput {
  const get = (name: string) => (env[name] === "" ? undefined : env[name]);
  for (const setting of ["BEACON_DATA_DIR", "BEACON_ADMIN_EMAIL", "BEACON_ADMIN_PASSWORD"]) {
    if (get(setting) !== undefined) {
      throw new ConfigError(
        setting,
        "the embedded database and local accounts are server-only; on the edge Beacon uses " +
          "the project's PostgreSQL and Supabase Auth: unset it",
      );
    }
  }
  const input = configFromEnv({
    ...env,
    DATABASE_URL: get("DATABASE_URL") ?? get("SUPABASE_DB_URL"),
    SUPABASE_PUBLISHABLE_KEY: get("SUPABASE_PUBLISHABLE_KEY") ??
      firstKey(get("SUPABASE_PUBLISHABLE_KEYS"), "SUPABASE_PUBLISHABLE_KEYS") ??
      get("SUPABASE_ANON_KEY"),
  });
  if (input.database?.kind !== "postgres") {
    throw new ConfigError(
      "DATABASE_URL",
      "the embedded database (PGlite) is server-only: on the edge set DATABASE_URL to the " +
        "project's PostgreSQL (a Supabase function gets SUPABASE_DB_URL)",
    );
  }
  if (input.auth?.mode !== "supabase") {
    throw new ConfigError(
      "SUPABASE_URL",
      "local accounts are server-only: on the edge sign-in is Supabase Auth; set SUPABASE_URL " +
        "and SUPABASE_PUBLISHABLE_KEY (a Supabase function has both)",
    );
  }
  const budget = get("BEACON_DRAIN_BUDGET_MS");
  if (budget !== undefined && !/^[1-9][0-9]{0,6}$/.test(budget)) {
    throw new ConfigError("BEACON_DRAIN_BUDGET_MS", `must be milliseconds, not "${budget}"`);
  }
  const onSupabase = platform === "supabase";
  return {
    ...input,
    // A hosted function is reached only through Supabase's gateway, which ends TLS and adds
    // X-Forwarded-For / -Proto: believe them unless told which addresses to believe.
    trustedProxies: input.trustedProxies ?? (onSupabase ? ["0.0.0.0/0", "::/0"] : []),
    // Every gateway hop is trusted there, so X-Forwarded-For's leftmost hop, which the client
    // writes, would be believed: read the address Cloudflare (in front of every hosted
    // function) sets and overwrites instead. BEACON_CLIENT_ADDRESS_HEADER=none turns it off.
    clientAddressHeader: input.clientAddressHeader ?? (onSupabase ? "cf-connecting-ip" : undefined),
    seedDemoData: false,
    nightly: "never",
    ...(get("BEACON_ISLANDS_DIR") ? { islandsDir: get("BEACON_ISLANDS_DIR") } : {}),
    site: {
      basePath: get("BEACON_BASE_PATH") ?? (onSupabase ? "/beacon" : ""),
      publicPath: get("BEACON_PUBLIC_PATH") ?? (onSupabase ? "/functions/v1/beacon" : ""),
      pages: flag("BEACON_SERVE_PAGES", get("BEACON_SERVE_PAGES"), !onSupabase),
      dashboardUrl: get("BEACON_DASHBOARD_URL"),
    },
    drain: {
      secret: get("BEACON_DRAIN_SECRET") ?? get("SUPABASE_SERVICE_ROLE_KEY") ??
        firstKey(get("SUPABASE_SECRET_KEYS"), "SUPABASE_SECRET_KEYS"),
      ...(budget ? { budgetMs: Number(budget) } : {}),
    },
  };
}
