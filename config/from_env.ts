/**
 * Reading Beacon's configuration from the environment (`fresh.config.ts` passes
 * `Deno.env.toObject()`); the shape, defaults and checks are in `config/mod.ts`.
 *
 * @module
 */
import { matomo } from "../plugins/matomo.ts";
import { posthog } from "../plugins/posthog.ts";
import { webhook } from "../plugins/webhook.ts";
import {
  type BeaconConfigInput,
  checkHeaderName,
  checkIngestKey,
  checkPort,
  checkTrustedProxies,
  ConfigError,
  type Limits,
} from "./mod.ts";
import { sqlPortFromEnv } from "./sql_port.ts";

function url(setting: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error();
    }
    return value.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(setting, `must be an http(s) URL, not "${value}"`);
  }
}

const LIMIT_SETTINGS = {
  BEACON_MAX_BODY_BYTES: "maxBodyBytes",
  BEACON_MAX_BATCH_EVENTS: "maxBatchEvents",
  BEACON_STATEMENT_TIMEOUT_MS: "statementTimeoutMs",
} as const;

function limitsFromEnv(get: (name: string) => string | undefined): Partial<Limits> | undefined {
  let limits: Partial<Limits> | undefined;
  for (const [setting, key] of Object.entries(LIMIT_SETTINGS)) {
    const value = get(setting);
    if (value === undefined) continue;
    if (!/^[1-9][0-9]{0,9}$/.test(value)) {
      throw new ConfigError(setting, `must be a positive whole number, not "${value}"`);
    }
    (limits ??= {})[key] = Number(value);
  }
  return limits;
}

/**
 * Reads the settings Beacon takes from the environment, with their documented defaults:
 * `PORT` (8000), `BEACON_DATA_DIR` (`./data`), `DATABASE_URL` (unset: embedded),
 * `BEACON_SEED` (`true`/`false`; default: true when embedded), `BEACON_INGEST_KEY`
 * (generated on first start), `BEACON_POSTHOG_PROJECT_KEY` (a second project key for
 * PostHog's SDKs, on the capture endpoints only; none by default), `SUPABASE_URL`, `SUPABASE_JWKS_URL`, `SUPABASE_JWT_SECRET`,
 * `SUPABASE_PUBLISHABLE_KEY` (or `SUPABASE_ANON_KEY`), `POSTHOG_API_KEY`, `POSTHOG_HOST`,
 * `BEACON_WEBHOOK_URL`, `BEACON_WEBHOOK_SECRET`, `MATOMO_URL`, `MATOMO_SITE_ID`,
 * `MATOMO_TOKEN_AUTH`, `BEACON_ADMIN_EMAIL`, `BEACON_ADMIN_PASSWORD`,
 * `BEACON_MAX_BODY_BYTES` (1 MiB), `BEACON_MAX_BATCH_EVENTS` (1000),
 * `BEACON_STATEMENT_TIMEOUT_MS` (8000, reads made as a signed-in user),
 * `BEACON_TRUSTED_PROXIES` (comma-separated IPs / CIDR ranges; default none),
 * `BEACON_RAW_RETENTION_DAYS` (days raw events are kept; default: what the database holds),
 * `BEACON_SQL_PORT`, `BEACON_SQL_HOST`, `BEACON_SQL_PASSWORD`,
 * `BEACON_SQL_IDLE_IN_TRANSACTION_MS` (Postgres clients on the embedded database; off by default).
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The configuration input those settings describe.
 */
export function configFromEnv(
  env: Record<string, string | undefined>,
): BeaconConfigInput {
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const input: BeaconConfigInput = { plugins: [] };
  const port = get("PORT");
  if (port !== undefined) input.port = checkPort("PORT", port);
  const databaseUrl = get("DATABASE_URL");
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError(
        "DATABASE_URL",
        "must start with postgres:// or postgresql://",
      );
    }
    input.database = { kind: "postgres", url: databaseUrl };
  } else {
    input.database = {
      kind: "embedded",
      dataDir: get("BEACON_DATA_DIR") ?? "./data",
    };
  }
  const seed = get("BEACON_SEED");
  if (seed !== undefined) {
    if (seed !== "true" && seed !== "false") {
      throw new ConfigError(
        "BEACON_SEED",
        `must be true or false, not "${seed}"`,
      );
    }
    input.seedDemoData = seed === "true";
  }
  const retention = get("BEACON_RAW_RETENTION_DAYS");
  if (retention !== undefined) {
    if (!/^[0-9]{1,5}$/.test(retention)) {
      throw new ConfigError(
        "BEACON_RAW_RETENTION_DAYS",
        `must be a number of days, not "${retention}"`,
      );
    }
    input.rawRetentionDays = Number(retention);
  }
  const ingestKey = get("BEACON_INGEST_KEY");
  if (ingestKey !== undefined) input.ingestKey = checkIngestKey("BEACON_INGEST_KEY", ingestKey);
  const posthogProjectKey = get("BEACON_POSTHOG_PROJECT_KEY");
  if (posthogProjectKey !== undefined) {
    input.posthogProjectKey = checkIngestKey("BEACON_POSTHOG_PROJECT_KEY", posthogProjectKey);
  }
  const supabaseUrl = get("SUPABASE_URL");
  const jwksUrl = get("SUPABASE_JWKS_URL");
  const jwtSecret = get("SUPABASE_JWT_SECRET");
  if (supabaseUrl || jwksUrl || jwtSecret) {
    const base = supabaseUrl ? url("SUPABASE_URL", supabaseUrl) : undefined;
    if (jwtSecret !== undefined && jwtSecret.length < 32) {
      throw new ConfigError(
        "SUPABASE_JWT_SECRET",
        "must be at least 32 characters",
      );
    }
    input.auth = {
      mode: "supabase",
      url: base,
      jwksUrl: jwksUrl
        ? url("SUPABASE_JWKS_URL", jwksUrl)
        : (base && !jwtSecret ? `${base}/auth/v1/.well-known/jwks.json` : undefined),
      jwtSecret,
      audience: "authenticated",
      publishableKey: get("SUPABASE_PUBLISHABLE_KEY") ?? get("SUPABASE_ANON_KEY"),
    };
  }
  const adminEmail = get("BEACON_ADMIN_EMAIL");
  const adminPassword = get("BEACON_ADMIN_PASSWORD");
  if (adminEmail || adminPassword) {
    if (!adminEmail || !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
      throw new ConfigError(
        "BEACON_ADMIN_EMAIL",
        "must be an email address when BEACON_ADMIN_PASSWORD is set",
      );
    }
    if (!adminPassword || adminPassword.length < 8) {
      throw new ConfigError(
        "BEACON_ADMIN_PASSWORD",
        "must be at least 8 characters when BEACON_ADMIN_EMAIL is set",
      );
    }
    input.admin = { email: adminEmail, password: adminPassword };
  }
  const limits = limitsFromEnv(get);
  if (limits) input.limits = limits;
  const trustedProxies = get("BEACON_TRUSTED_PROXIES");
  if (trustedProxies !== undefined) {
    input.trustedProxies = checkTrustedProxies(
      "BEACON_TRUSTED_PROXIES",
      trustedProxies.split(",").map((entry) => entry.trim()).filter(Boolean),
      "; list them comma-separated, e.g. 10.0.0.0/8,::1",
    );
  }
  const addressHeader = get("BEACON_CLIENT_ADDRESS_HEADER");
  if (addressHeader !== undefined) {
    // "none": no header, even where the platform has a default (the edge on Supabase).
    input.clientAddressHeader = addressHeader.trim().toLowerCase() === "none"
      ? ""
      : checkHeaderName("BEACON_CLIENT_ADDRESS_HEADER", addressHeader);
  }
  const posthogKey = get("POSTHOG_API_KEY");
  const posthogHost = get("POSTHOG_HOST");
  if (posthogHost && !posthogKey) {
    throw new ConfigError(
      "POSTHOG_API_KEY",
      "is required when POSTHOG_HOST is set",
    );
  }
  if (posthogKey) {
    input.plugins!.push(posthog({
      apiKey: posthogKey,
      host: posthogHost ? url("POSTHOG_HOST", posthogHost) : undefined,
    }));
  }
  const sql = sqlPortFromEnv(get, !databaseUrl);
  if ("problem" in sql) throw new ConfigError(sql.problem.setting, sql.problem.reason);
  if (sql.input) input.sql = sql.input;
  const webhookUrl = get("BEACON_WEBHOOK_URL");
  const webhookSecret = get("BEACON_WEBHOOK_SECRET");
  if (webhookUrl || webhookSecret) {
    if (!webhookUrl) {
      throw new ConfigError(
        "BEACON_WEBHOOK_URL",
        "is required when BEACON_WEBHOOK_SECRET is set",
      );
    }
    if (!webhookSecret || webhookSecret.length < 16) {
      throw new ConfigError(
        "BEACON_WEBHOOK_SECRET",
        "is required (at least 16 characters) when BEACON_WEBHOOK_URL is set",
      );
    }
    input.plugins!.push(
      webhook({
        url: url("BEACON_WEBHOOK_URL", webhookUrl),
        secret: webhookSecret,
      }),
    );
  }
  const matomoUrl = get("MATOMO_URL");
  const matomoSite = get("MATOMO_SITE_ID");
  const matomoToken = get("MATOMO_TOKEN_AUTH");
  if (matomoUrl || matomoSite || matomoToken) {
    if (!matomoUrl) {
      throw new ConfigError(
        "MATOMO_URL",
        "is required when MATOMO_SITE_ID or MATOMO_TOKEN_AUTH is set",
      );
    }
    if (!matomoSite || !/^[1-9][0-9]{0,9}$/.test(matomoSite)) {
      throw new ConfigError(
        "MATOMO_SITE_ID",
        "must be the site's id in Matomo (a positive number) when MATOMO_URL is set",
      );
    }
    if (!matomoToken) {
      throw new ConfigError(
        "MATOMO_TOKEN_AUTH",
        "is required when MATOMO_URL is set (a token with write access to the site: Matomo needs it for events more than a day old)",
      );
    }
    input.plugins!.push(
      matomo({
        url: url("MATOMO_URL", matomoUrl),
        siteId: Number(matomoSite),
        tokenAuth: matomoToken,
      }),
    );
  }
  return input;
}
