/**
 * Beacon's configuration: its shape, its defaults, and how it is read from the
 * environment. `fresh.config.ts` calls {@linkcode defineConfig}; everything else receives
 * the resulting object and never reads the environment itself.
 *
 * @module
 */

/** Where the data lives. */
export type DatabaseConfig =
  | { kind: "embedded"; dataDir: string }
  | { kind: "postgres"; url: string };

/** Beacon's whole configuration. */
export interface BeaconConfig {
  /** The HTTP port. */
  port: number;
  /** The database. */
  database: DatabaseConfig;
  /** Whether to load `supabase/seed.sql` when the database has no users yet. */
  seedDemoData: boolean;
}

/** The configuration as written in `fresh.config.ts`: every field optional. */
export interface BeaconConfigInput {
  /**
   * The HTTP port.
   *
   * @default {8000}
   */
  port?: number;
  /**
   * The database.
   *
   * @default {{ kind: "embedded", dataDir: "./data" }}
   */
  database?: DatabaseConfig;
  /**
   * Load the demo data into an empty database.
   *
   * @default {true for the embedded database, false otherwise}
   */
  seedDemoData?: boolean;
}

/** A setting that is missing or wrong; the message names it. */
export class ConfigError extends Error {
  /**
   * @param setting The environment variable or field at fault.
   * @param reason What is wrong with it and what to do.
   */
  constructor(readonly setting: string, reason: string) {
    super(`${setting}: ${reason}`);
    this.name = "ConfigError";
  }
}

/**
 * Fills in the defaults of a configuration.
 *
 * @param input The configuration as written.
 * @returns The complete configuration.
 *
 * @example A configuration for an embedded database on port 8080
 * ```ts
 * export default defineConfig({ port: 8080 });
 * ```
 */
export function defineConfig(input: BeaconConfigInput = {}): BeaconConfig {
  const database = input.database ?? { kind: "embedded", dataDir: "./data" };
  const port = input.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      "port",
      `must be an integer between 0 and 65535, not ${port}`,
    );
  }
  return {
    port,
    database,
    seedDemoData: input.seedDemoData ?? database.kind === "embedded",
  };
}

/**
 * Reads the settings Beacon takes from the environment, with their documented defaults:
 * `PORT` (8000), `BEACON_DATA_DIR` (`./data`), `DATABASE_URL` (unset: embedded),
 * `BEACON_SEED` (`true`/`false`; default: true when embedded).
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The configuration input those settings describe.
 */
export function configFromEnv(
  env: Record<string, string | undefined>,
): BeaconConfigInput {
  const input: BeaconConfigInput = {};
  if (env.PORT !== undefined && env.PORT !== "") {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(
        "PORT",
        `must be a port number (0-65535), not "${env.PORT}"`,
      );
    }
    input.port = port;
  }
  if (env.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) {
      throw new ConfigError(
        "DATABASE_URL",
        "must start with postgres:// or postgresql://",
      );
    }
    input.database = { kind: "postgres", url: env.DATABASE_URL };
  } else {
    input.database = {
      kind: "embedded",
      dataDir: env.BEACON_DATA_DIR || "./data",
    };
  }
  if (env.BEACON_SEED !== undefined && env.BEACON_SEED !== "") {
    if (env.BEACON_SEED !== "true" && env.BEACON_SEED !== "false") {
      throw new ConfigError(
        "BEACON_SEED",
        `must be true or false, not "${env.BEACON_SEED}"`,
      );
    }
    input.seedDemoData = env.BEACON_SEED === "true";
  }
  return input;
}
