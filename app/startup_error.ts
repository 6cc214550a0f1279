/**
 * Startup failures told to a person in one line ("Beacon cannot start: ..."), without a
 * stack trace: a bad setting, a busy port, a data directory another process holds, a
 * database that cannot be reached or refuses the role.
 *
 * @module
 */
import { ConfigError } from "../config/mod.ts";
import { DataDirInUseError } from "../database/lock.ts";
import { isUnavailable } from "../database/errors.ts";

/** A startup failure whose message already says what is wrong and what to do. */
export class StartupError extends Error {
  /**
   * @param message What is wrong and what to do.
   * @param options The underlying error, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Says in one line why Beacon could not start.
 *
 * @param error What startup threw.
 * @returns The reason, without the "Beacon cannot start:" prefix.
 */
export function describeStartupError(error: unknown): string {
  if (
    error instanceof StartupError || error instanceof ConfigError ||
    error instanceof DataDirInUseError
  ) {
    return oneLine(error.message);
  }
  if (!(error instanceof Error)) return oneLine(String(error));
  const code = codeOf(error);
  if (isUnavailable(error)) {
    return oneLine(
      `cannot reach the database (${
        code ?? error.name
      }: ${error.message}); check DATABASE_URL and that the server is running`,
    );
  }
  if (code && /^[0-9A-Z]{5}$/.test(code) && error.name === "PostgresError") {
    const hint = code.startsWith("28")
      ? "; check the user and password in DATABASE_URL"
      : code === "42501"
      ? "; the role in DATABASE_URL lacks the rights Beacon's migrations need (use the project's postgres role or a superuser)"
      : code === "3D000"
      ? "; check the database name in DATABASE_URL"
      : "";
    return oneLine(`the database refused: ${error.message} (SQLSTATE ${code})${hint}`);
  }
  return oneLine(`${error.name}: ${error.message}`);
}

/**
 * Turns a failure to bind the HTTP port into a {@linkcode StartupError}; other errors pass
 * through.
 *
 * @param error What `Deno.serve` threw.
 * @param hostname The address asked for.
 * @param port The port asked for.
 * @returns The error to throw.
 */
export function portError(error: unknown, hostname: string, port: number): unknown {
  if (error instanceof Deno.errors.AddrInUse) {
    return new StartupError(
      `port ${port} on ${hostname} is already in use (another Beacon?); stop it or set PORT`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StartupError(
      `no permission to listen on port ${port}; choose a port above 1023 with PORT`,
      { cause: error },
    );
  }
  return error;
}
