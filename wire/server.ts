/**
 * The embedded database served over the PostgreSQL wire protocol, for psql, DBeaver,
 * Metabase or Grafana while Beacon runs. `@electric-sql/pglite-socket` speaks the protocol
 * to PGlite, on a Unix socket in a private temporary directory (mode 0700) that only this
 * layer connects to; in front of it this layer listens on TCP, asks for the password
 * (SCRAM-SHA-256: pglite-socket has no authentication) and gives each client PGlite's one
 * session in turns shared with the app (see `connection.ts`).
 *
 * @module
 */
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { EmbeddedSession } from "../database/pglite.ts";
import type { Logger } from "../log/mod.ts";
import { parseScramVerifier } from "./scram.ts";
import { type ConnectionContext, serveConnection } from "./connection.ts";

/** Options for {@linkcode startWireServer}. */
export interface WireServerOptions {
  /** The embedded database's instance and session lock. */
  session: EmbeddedSession;
  /** The address to listen on, e.g. `127.0.0.1`. */
  hostname: string;
  /** The TCP port (0: any free one). */
  port: number;
  /** The password's SCRAM-SHA-256 verifier (PostgreSQL's text format). */
  verifier: string;
  /** How long a client may hold the database idle (e.g. in a transaction), in ms. */
  idleInTransactionMs: number;
  /** Where refusals and terminations are logged. */
  log: Logger;
}

/** A running wire server. */
export interface WireServer {
  /** The address it listens on. */
  hostname: string;
  /** The port it listens on. */
  port: number;
  /** Disconnects every client (rolling back what they left open) and stops listening. */
  stop(): Promise<void>;
}

/**
 * Serves the embedded database on a TCP port. Throws Deno's `AddrInUse` when the port is
 * taken.
 *
 * @param options Where, the password, the idle bound.
 * @returns The running server.
 *
 * @example
 * ```ts
 * const server = await startWireServer({ session, hostname: "127.0.0.1", port: 5433,
 *   verifier: await createScramVerifier("secret"), idleInTransactionMs: 10_000, log });
 * // psql "postgres://postgres:secret@127.0.0.1:5433/postgres"
 * await server.stop();
 * ```
 */
export async function startWireServer(options: WireServerOptions): Promise<WireServer> {
  const { session, log } = options;
  const verifier = parseScramVerifier(options.verifier);
  const owner = await session.lock.run({}, async () => {
    const { rows } = await session.pglite.query<{ u: string }>("select session_user::text as u");
    return rows[0].u;
  });
  const dir = await Deno.makeTempDir({ prefix: "beacon-wire-" });
  await Deno.chmod(dir, 0o700);
  const path = `${dir}/.s.PGSQL.5432`;
  const inner = new PGLiteSocketServer({ db: session.pglite, path, maxConnections: 10_000 });
  let listener: Deno.Listener;
  try {
    await inner.start();
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    await inner.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  let upstreams = 0;
  const ctx: ConnectionContext = {
    session,
    verifier,
    owner,
    idleInTransactionMs: options.idleInTransactionMs,
    authTimeoutMs: 10_000,
    async connectUpstream() {
      const conn = await Deno.connect({ transport: "unix", path });
      upstreams++;
      return conn;
    },
    async upstreamDetached() {
      upstreams--;
      // pglite-socket rolls back "its" transaction when it sees the close; wait until it
      // has, while this client still holds the session, so it cannot touch the app's.
      for (let i = 0; i < 2000 && inner.getStats().activeConnections > upstreams; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    warn: (message, fields) => log.warn(message, fields),
  };
  let stopping!: () => void;
  const closing = new Promise<void>((resolve) => (stopping = resolve));
  const clients = new Set<Promise<void>>();
  let connections = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const served: Promise<void> = serveConnection(conn, ctx, closing, ++connections)
          .catch((error) => log.warn("wire client failed", { error: String(error) }))
          .finally(() => clients.delete(served));
        clients.add(served);
      }
    } catch { /* listener closed */ }
  })();
  const address = listener.addr as Deno.NetAddr;
  let stopped: Promise<void> | undefined;
  return {
    hostname: address.hostname,
    port: address.port,
    stop() {
      stopped ??= (async () => {
        listener.close();
        await accepting;
        stopping();
        await Promise.all([...clients]);
        await inner.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      })();
      return stopped;
    },
  };
}
