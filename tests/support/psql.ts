/**
 * Debian's `psql` against a server on a port: one-shot commands, and a session kept open
 * (stdin piped) to hold a connection or a transaction while a test does something else.
 *
 * @module
 */

/** Where psql is, or undefined (install `postgresql-client-15`, part of `postgresql-15`). */
export async function findPsql(): Promise<string | undefined> {
  for (const path of ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"]) {
    try {
      await Deno.stat(path);
      return path;
    } catch { /* next */ }
  }
  return undefined;
}

/** A psql run's outcome. */
export interface PsqlResult {
  /** The exit code (0 ok, 1 a query failed, 2 the connection failed). */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

function args(port: number, extra: string[], user = "postgres"): string[] {
  return [
    "-X",
    "-w",
    "-A",
    "-t",
    "-v",
    "ON_ERROR_STOP=1",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    user,
    "-d",
    "postgres",
    ...extra,
  ];
}

function env(password: string | undefined): Record<string, string> {
  const out: Record<string, string> = { PGCONNECT_TIMEOUT: "10", PGSSLMODE: "prefer" };
  if (password !== undefined) out.PGPASSWORD = password;
  return out;
}

/**
 * Runs psql once with `-c`.
 *
 * @param psql The binary.
 * @param port The server's port.
 * @param password The password, or undefined for none.
 * @param sql The commands.
 * @param user The user name to sign in as. @default {"postgres"}
 * @returns The outcome.
 */
export async function runPsql(
  psql: string,
  port: number,
  password: string | undefined,
  sql: string,
  user = "postgres",
): Promise<PsqlResult> {
  const out = await new Deno.Command(psql, {
    args: args(port, ["-c", sql], user),
    env: env(password),
    clearEnv: false,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A psql session kept open. */
export interface PsqlSession {
  /**
   * Sends commands and waits until psql has run them (a marker is echoed after them).
   *
   * @param sql The commands, each ending with `;`.
   * @returns What they printed on stdout.
   */
  send(sql: string): Promise<string>;
  /** Everything psql wrote to stderr so far. */
  stderr(): string;
  /** Ends the session (stdin closed) and waits for psql to exit. */
  close(): Promise<number>;
}

/**
 * Opens a psql session reading commands from a pipe.
 *
 * @param psql The binary.
 * @param port The server's port.
 * @param password The password.
 * @returns The session.
 */
export function openPsqlSession(psql: string, port: number, password: string): PsqlSession {
  const child = new Deno.Command(psql, {
    args: args(port, ["-f", "-"]),
    env: env(password),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let out = "";
  let err = "";
  let waiting: (() => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      waiting?.();
    }
    waiting?.();
  };
  const pumps = Promise.all([
    pump(child.stdout, (s) => (out += s)),
    pump(child.stderr, (s) => (err += s)),
  ]);
  let closed = false;
  child.status.then(() => (closed = true, waiting?.()));
  let n = 0;
  return {
    async send(sql) {
      const marker = `__done_${++n}__`;
      const start = out.length;
      await writer.write(encoder.encode(`${sql}\n\\echo ${marker}\n`));
      while (!out.includes(marker, start)) {
        if (closed) throw new Error(`psql exited: ${err}`);
        await new Promise<void>((resolve) => (waiting = resolve));
      }
      return out.slice(start, out.indexOf(marker, start));
    },
    stderr: () => err,
    async close() {
      await writer.close().catch(() => {});
      const status = await child.status;
      await pumps;
      return status.code;
    },
  };
}
