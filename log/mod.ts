/**
 * Structured logs: one JSON object per line. Callers pass fields, never secrets or tokens.
 *
 * @module
 */

/** A log line's fields. */
export type LogFields = Record<string, unknown>;

/** A logger. */
export interface Logger {
  /** Something worth knowing happened. */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong but Beacon carries on. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: LogFields): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Where lines go. @default {console.log} */
  write?: (line: string) => void;
  /** Fields on every line. @default {{}} */
  fields?: LogFields;
}

function describe(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  return value;
}

/**
 * Creates a JSON-lines logger.
 *
 * @param options Where to write, and fields for every line.
 * @returns The logger.
 *
 * @example
 * ```ts
 * const log = createLogger();
 * log.info("request", { status: 200, duration_ms: 3 });
 * // {"time":"...","level":"info","msg":"request","status":200,"duration_ms":3}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => console.log(line));
  const base = options.fields ?? {};
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    const entry: LogFields = {
      time: new Date().toISOString(),
      level,
      msg: message,
      ...base,
    };
    for (const [key, value] of Object.entries(fields)) {
      entry[key] = describe(value);
    }
    write(JSON.stringify(entry));
  };
  return {
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger({ write, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (for tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });
