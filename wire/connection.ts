/**
 * One Postgres client on the embedded database: refuses TLS, checks the password with
 * SCRAM-SHA-256, then relays the client's messages to pglite-socket (over a private Unix
 * socket) in turns. A turn takes PGlite's one session (`database/session_lock.ts`) at the
 * client's first message and gives it back when the backend is idle again (ReadyForQuery
 * `I`, every Sync answered); a client that keeps it idle (in an open transaction, an
 * unfinished extended-query exchange or a COPY) longer than the bound is terminated and its
 * transaction rolled back, as PostgreSQL's `idle_in_transaction_session_timeout` does.
 *
 * @module
 */
import type { EmbeddedSession } from "../database/pglite.ts";
import {
  CANCEL_REQUEST,
  errorResponse,
  GSSENC_REQUEST,
  MessageBuffer,
  prefixNames,
  PROTOCOL_3,
  readSasl,
  readStartup,
  saslOffer,
  SSL_REQUEST,
  typed,
} from "./messages.ts";
import { authentication } from "./messages.ts";
import { type ScramVerifier, startScramExchange } from "./scram.ts";
import { clientSession } from "./session_state.ts";

/** What a connection needs from its server. */
export interface ConnectionContext {
  /** The instance and its session lock. */
  session: EmbeddedSession;
  /** The password's keys. */
  verifier: ScramVerifier;
  /** The session user the app runs as (e.g. `postgres`). */
  owner: string;
  /** How long a client may hold the session idle, in milliseconds. */
  idleInTransactionMs: number;
  /** How long the password exchange may take, in milliseconds. */
  authTimeoutMs: number;
  /** Opens a connection to pglite-socket. */
  connectUpstream(): Promise<Deno.Conn>;
  /** Resolves once pglite-socket has let go of a closed upstream connection. */
  upstreamDetached(): Promise<void>;
  /** Reports a failed password or a terminated client. */
  warn(message: string, fields: Record<string, unknown>): void;
}

const Q = 0x51, S = 0x53, F = 0x46, X = 0x58, Z = 0x5a, G = 0x47;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Reads whole messages from a connection. */
function messageReader(conn: Deno.Conn) {
  const buffer = new MessageBuffer();
  const chunk = new Uint8Array(64 * 1024);
  return async (startup: boolean): Promise<Uint8Array | undefined> => {
    for (;;) {
      const message = buffer.next(startup);
      if (message) return message;
      const n = await conn.read(chunk);
      if (n === null) return undefined;
      buffer.push(chunk.slice(0, n));
    }
  };
}

/**
 * The startup and password exchange. Resolves to the StartupMessage to pass on once the
 * password is right; undefined when the client left or failed (it has been told).
 */
async function authenticate(
  conn: Deno.Conn,
  read: (startup: boolean) => Promise<Uint8Array | undefined>,
  ctx: ConnectionContext,
): Promise<{ startup: Uint8Array; user: string } | undefined> {
  let startup: Uint8Array | undefined;
  let user = "";
  for (;;) {
    startup = await read(true);
    if (!startup || startup.length < 8) return undefined;
    const { code, params } = readStartup(startup);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      await writeAll(conn, new TextEncoder().encode("N"));
      continue;
    }
    if (code === CANCEL_REQUEST) return undefined; // PGlite cannot cancel a statement
    if (code !== PROTOCOL_3) {
      await writeAll(conn, errorResponse("FATAL", "08P01", "unsupported frontend protocol"));
      return undefined;
    }
    user = params.get("user") ?? "";
    break;
  }
  const refuse = async () => {
    ctx.warn("wire client refused: wrong password", { user });
    await writeAll(
      conn,
      errorResponse("FATAL", "28P01", `password authentication failed for user "${user}"`),
    );
    return undefined;
  };
  await writeAll(conn, saslOffer());
  const initial = await read(false);
  if (!initial) return undefined; // e.g. psql without a password asks for one and reconnects
  const first = readSasl(initial, true);
  if (!first || first.mechanism !== "SCRAM-SHA-256") return await refuse();
  const exchange = startScramExchange(ctx.verifier);
  const serverFirst = exchange.first(first.data);
  if (!serverFirst) return await refuse();
  await writeAll(conn, authentication(11, serverFirst));
  const response = await read(false);
  if (!response) return undefined;
  const final = readSasl(response, false);
  const serverFinal = final ? await exchange.final(final.data) : undefined;
  if (!serverFinal) return await refuse();
  await writeAll(conn, authentication(12, serverFinal));
  return { startup, user };
}

/**
 * Serves one client until it leaves, fails its password, or is terminated.
 *
 * @param conn The client's connection.
 * @param ctx The server's settings and hooks.
 * @param closing Resolves when the server stops (the client is disconnected).
 * @param id The connection's number, which prefixes its prepared statements' names.
 */
export async function serveConnection(
  conn: Deno.Conn,
  ctx: ConnectionContext,
  closing: Promise<void>,
  id: number,
): Promise<void> {
  const read = messageReader(conn);
  let startup: { startup: Uint8Array; user: string } | undefined;
  let authenticating = true;
  const drop = () => {
    if (!authenticating) return;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const authTimer = setTimeout(drop, ctx.authTimeoutMs);
  closing.then(drop);
  try {
    startup = await authenticate(conn, read, ctx);
  } catch {
    startup = undefined;
  } finally {
    authenticating = false;
    clearTimeout(authTimer);
  }
  if (!startup) {
    try {
      conn.close();
    } catch { /* already closed */ }
    return;
  }
  await relay(conn, read, startup.startup, ctx, closing, `w${id}_`, startup.user);
}

async function relay(
  conn: Deno.Conn,
  read: (startup: boolean) => Promise<Uint8Array | undefined>,
  startup: Uint8Array,
  ctx: ConnectionContext,
  closing: Promise<void>,
  prefix: string,
  user: string,
): Promise<void> {
  const { pglite, lock } = ctx.session;
  // A user name other than the owner's is the role the session starts in (`set role`).
  const role = user === "" || user === ctx.owner ? undefined : user;
  const holder = clientSession(pglite, ctx.owner, prefix, role);
  let release: (() => void) | undefined;
  try {
    release = await lock.acquire(holder);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const refusal = code === "22023" || code === "42704"
      ? errorResponse("FATAL", "28000", `role "${user}" does not exist`)
      : errorResponse("FATAL", "XX000", (error as Error).message);
    await writeAll(conn, refusal).catch(() => {});
    conn.close();
    return;
  }
  // From here on the client holds the session whenever `release` is set.
  let upstream: Deno.Conn;
  try {
    upstream = await ctx.connectUpstream();
  } catch (error) {
    release();
    conn.close();
    throw error;
  }
  let pending = 1; // the startup's ReadyForQuery
  let unsynced = false;
  let copyIn = false;
  let status = "I";
  let clientOpen = true;
  let upstreamOpen = true;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let settled: () => void = () => {};

  const clearIdle = () => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const settle = () => {
    settled();
    if (!release || !clientOpen) return;
    if (pending === 0 && !unsynced && !copyIn && status === "I") {
      clearIdle();
      release();
      release = undefined;
    } else if (pending === 0 || copyIn) {
      idleTimer ??= setTimeout(() => {
        idleTimer = undefined;
        const inTransaction = status !== "I";
        ctx.warn("wire client terminated: idle while holding the database", {
          ms: ctx.idleInTransactionMs,
          inTransaction,
        });
        const reason = inTransaction
          ? `terminating connection due to idle-in-transaction timeout (${ctx.idleInTransactionMs} ms, BEACON_SQL_IDLE_IN_TRANSACTION_MS): Beacon's ingestion waits while a client's transaction is open`
          : `terminating connection: an unfinished exchange held the database for ${ctx.idleInTransactionMs} ms`;
        writeAll(conn, errorResponse("FATAL", inTransaction ? "25P03" : "57P05", reason))
          .catch(() => {})
          .finally(() => finish());
      }, ctx.idleInTransactionMs);
    } else clearIdle();
  };

  let taking: Promise<void> | undefined;
  const take = async () => {
    if (release) return;
    taking ??= lock.acquire(holder).then((give) => {
      release = give;
      taking = undefined;
    });
    await taking;
  };

  let finishing: Promise<void> | undefined;
  const finish = () =>
    finishing ??= (async () => {
      clientOpen = false;
      clearIdle();
      try {
        conn.close();
      } catch { /* already closed */ }
      await take();
      try {
        if (upstreamOpen && (copyIn || unsynced)) {
          const bytes = copyIn ? typed("f", new TextEncoder().encode("client left\0")) : typed(
            "S",
            new Uint8Array(0),
          );
          if (!copyIn) pending++;
          await writeAll(upstream, bytes).catch(() => {});
        }
        while (pending > 0 && upstreamOpen) {
          await new Promise<void>((resolve) => (settled = resolve));
        }
        if (pglite.isInTransaction()) await pglite.exec("rollback");
        await holder.discard();
      } finally {
        lock.forget(holder);
        try {
          upstream.close();
        } catch { /* already closed */ }
        await ctx.upstreamDetached();
        release?.();
        release = undefined;
      }
    })();

  const fromUpstream = (async () => {
    const messages = new MessageBuffer();
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await upstream.read(chunk);
        if (n === null) break;
        const bytes = chunk.slice(0, n);
        // Not awaited: finish() waits for this loop to read the rest of the answer.
        if (clientOpen) await writeAll(conn, bytes).catch(() => void finish());
        messages.push(bytes);
        for (let m = messages.next(); m; m = messages.next()) {
          if (m[0] === Z) {
            pending--;
            status = String.fromCharCode(m[5]);
            copyIn = false;
          } else if (m[0] === G) copyIn = true;
        }
        settle();
      }
    } catch { /* closed */ }
    upstreamOpen = false;
    settled();
    finish();
  })();

  await writeAll(upstream, startup);
  closing.then(() => finish());
  try {
    for (;;) {
      const message = await read(false);
      if (!message || message[0] === X || !clientOpen) break;
      clearIdle();
      await take();
      if (!clientOpen) break;
      const type = message[0];
      if (type === Q || type === F) pending++;
      else if (type === S) {
        pending++;
        unsynced = false;
      } else if (!copyIn) unsynced = true;
      await writeAll(upstream, prefixNames(message, prefix));
      settle();
    }
  } catch { /* the client went away */ }
  await finish();
  await fromUpstream;
}
