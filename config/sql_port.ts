/**
 * The setting for serving the embedded database to Postgres clients (`BEACON_SQL_PORT`,
 * `BEACON_SQL_HOST`, `BEACON_SQL_PASSWORD`, `BEACON_SQL_IDLE_IN_TRANSACTION_MS`): its
 * shape, defaults and checks. The checks return the problem; `config/mod.ts` and
 * `config/from_env.ts` throw it as a `ConfigError`.
 *
 * @module
 */

/** Serving the embedded database over the PostgreSQL wire protocol. */
export interface SqlPortConfig {
  /** The TCP port. */
  port: number;
  /** The address to listen on. */
  hostname: string;
  /** The password; unset: generated on first start, printed once, kept as a verifier. */
  password?: string;
  /** How long a client may keep the database idle in an open transaction, in ms. */
  idleInTransactionMs: number;
}

/** The setting as written: everything but the port optional. */
export interface SqlPortInput {
  /** The TCP port, e.g. 5433 (0: any free port). */
  port: number;
  /** The address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The password (at least 12 characters). @default {generated on first start} */
  password?: string;
  /** The idle-in-transaction bound in ms (100 to 3,600,000). @default {10000} */
  idleInTransactionMs?: number;
}

/** A setting at fault and what is wrong with it. */
export interface SettingProblem {
  /** The environment variable or field. */
  setting: string;
  /** What is wrong and what to do. */
  reason: string;
}

/** The default idle-in-transaction bound: ingestion waits at most this long for a client. */
export const DEFAULT_IDLE_IN_TRANSACTION_MS = 10_000;

/** The names to blame: fields by default, environment variables from `config/from_env.ts`. */
export interface SqlPortNames {
  /** The port's name. */
  port: string;
  /** The password's name. */
  password: string;
  /** The idle bound's name. */
  idle: string;
}

const FIELDS: SqlPortNames = {
  port: "sql.port",
  password: "sql.password",
  idle: "sql.idleInTransactionMs",
};

const SQL_PORT_ENV: SqlPortNames = {
  port: "BEACON_SQL_PORT",
  password: "BEACON_SQL_PASSWORD",
  idle: "BEACON_SQL_IDLE_IN_TRANSACTION_MS",
};

/**
 * Fills in the defaults and checks the setting.
 *
 * @param input The setting as written.
 * @param options Whether the database is the embedded one (the only one served), and the
 * names to blame.
 * @returns The complete setting, or the problem.
 */
export function resolveSqlPort(
  input: SqlPortInput,
  options: { embedded: boolean; names?: SqlPortNames },
): { config: SqlPortConfig } | { problem: SettingProblem } {
  const names = options.names ?? FIELDS;
  const problem = (setting: string, reason: string) => ({ problem: { setting, reason } });
  const { port } = input;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return problem(names.port, `must be a port number (0-65535), not ${JSON.stringify(port)}`);
  }
  if (!options.embedded) {
    return problem(
      names.port,
      "serves the embedded database only; with DATABASE_URL connect to that server itself",
    );
  }
  if (input.password !== undefined && input.password.length < 12) {
    return problem(names.password, "must be at least 12 characters");
  }
  const idle = input.idleInTransactionMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS;
  if (!Number.isInteger(idle) || idle < 100 || idle > 3_600_000) {
    return problem(names.idle, `must be milliseconds from 100 to 3600000, not ${idle}`);
  }
  return {
    config: {
      port,
      hostname: input.hostname ?? "127.0.0.1",
      password: input.password,
      idleInTransactionMs: idle,
    },
  };
}

/**
 * Reads the setting from the environment.
 *
 * @param get Reads a variable (undefined when unset or empty).
 * @param embedded Whether the database is the embedded one (no `DATABASE_URL`).
 * @returns The setting (undefined when `BEACON_SQL_PORT` is unset), or the problem.
 */
export function sqlPortFromEnv(
  get: (name: string) => string | undefined,
  embedded: boolean,
): { input?: SqlPortInput } | { problem: SettingProblem } {
  const port = get("BEACON_SQL_PORT");
  const hostname = get("BEACON_SQL_HOST");
  const password = get("BEACON_SQL_PASSWORD");
  const idle = get("BEACON_SQL_IDLE_IN_TRANSACTION_MS");
  if (port === undefined) {
    if (hostname === undefined && password === undefined && idle === undefined) return {};
    return {
      problem: {
        setting: "BEACON_SQL_PORT",
        reason:
          "is required when BEACON_SQL_HOST, BEACON_SQL_PASSWORD or BEACON_SQL_IDLE_IN_TRANSACTION_MS is set",
      },
    };
  }
  const number = (value: string) => /^[0-9]{1,8}$/.test(value) ? Number(value) : undefined;
  const portNumber = number(port);
  if (portNumber === undefined) {
    return {
      problem: { setting: "BEACON_SQL_PORT", reason: `must be a port number, not "${port}"` },
    };
  }
  const idleMs = idle === undefined ? undefined : number(idle);
  if (idle !== undefined && idleMs === undefined) {
    return {
      problem: {
        setting: "BEACON_SQL_IDLE_IN_TRANSACTION_MS",
        reason: `must be a number of milliseconds, not "${idle}"`,
      },
    };
  }
  const input = { port: portNumber, hostname, password, idleInTransactionMs: idleMs };
  const checked = resolveSqlPort(input, { embedded, names: SQL_PORT_ENV });
  return "problem" in checked ? checked : { input };
}
