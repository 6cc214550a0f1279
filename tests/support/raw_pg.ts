/**
 * A bare PostgreSQL wire-protocol client for tests: SCRAM-SHA-256 sign-in done by hand (the
 * client's side of RFC 5802) and raw messages, to check what a server answers message by
 * message (e.g. named prepared statements, which psql never sends).
 *
 * @module
 */
import { MessageBuffer, PROTOCOL_3, typed } from "../../wire/messages.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
type Bytes = Uint8Array<ArrayBuffer>;

async function hmac(key: Bytes, data: string): Promise<Bytes> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/**
 * The client's side of SCRAM-SHA-256.
 *
 * @param password The password.
 * @returns The first message, and a function from the server's first message to the final one.
 */
export function scramClient(password: string) {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));
  const bare = `n=,r=${nonce}`;
  return {
    first: `n,,${bare}`,
    async final(serverFirst: string): Promise<string> {
      const attrs = new Map(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
      const salt = Uint8Array.from(atob(attrs.get("s")!), (c) => c.charCodeAt(0));
      const base = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
        "deriveBits",
      ]);
      const salted = new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: "SHA-256", salt, iterations: Number(attrs.get("i")) },
          base,
          256,
        ),
      );
      const clientKey = await hmac(salted, "Client Key");
      const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
      const withoutProof = `c=biws,r=${attrs.get("r")}`;
      const signature = await hmac(storedKey, `${bare},${serverFirst},${withoutProof}`);
      const proof = clientKey.map((b, i) => b ^ signature[i]);
      return `${withoutProof},p=${btoa(String.fromCharCode(...proof))}`;
    },
  };
}

/** A message from the server: its type and body. */
export interface ServerMessage {
  /** The type, e.g. `"Z"`. */
  type: string;
  /** The body. */
  body: Uint8Array;
}

/** A signed-in raw connection. */
export interface RawConnection {
  /**
   * Sends messages and collects the answers up to the next ReadyForQuery.
   *
   * @param messages Whole messages (see `wire/messages.ts`'s `typed`).
   */
  exchange(...messages: Uint8Array[]): Promise<ServerMessage[]>;
  /** Closes the connection. */
  close(): void;
}

/**
 * Connects and signs in with SCRAM-SHA-256.
 *
 * @param port The server's port on 127.0.0.1.
 * @param password The password.
 * @returns The connection, ready for queries.
 */
export async function connectRaw(port: number, password: string): Promise<RawConnection> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new MessageBuffer();
  const chunk = new Uint8Array(65536);
  const next = async (): Promise<ServerMessage> => {
    for (;;) {
      const m = buffer.next();
      if (m) return { type: String.fromCharCode(m[0]), body: m.subarray(5) };
      const n = await conn.read(chunk);
      if (n === null) throw new Error("server closed the connection");
      buffer.push(chunk.slice(0, n));
    }
  };
  const until = async (type: string) => {
    const got: ServerMessage[] = [];
    for (;;) {
      const m = await next();
      got.push(m);
      if (m.type === type || m.type === "E" && type === "R") return got;
    }
  };
  const params = encoder.encode("user\0postgres\0database\0postgres\0\0");
  const startup = new Uint8Array(8 + params.length);
  new DataView(startup.buffer).setInt32(0, startup.length);
  new DataView(startup.buffer).setInt32(4, PROTOCOL_3);
  startup.set(params, 8);
  await conn.write(startup);
  await until("R"); // SASL offer
  const scram = scramClient(password);
  const mech = encoder.encode("SCRAM-SHA-256\0");
  const first = encoder.encode(scram.first);
  const initial = new Uint8Array(mech.length + 4 + first.length);
  initial.set(mech);
  new DataView(initial.buffer).setInt32(mech.length, first.length);
  initial.set(first, mech.length + 4);
  await conn.write(typed("p", initial));
  const [serverFirst] = await until("R");
  if (serverFirst.type === "E") throw new Error("refused");
  await conn.write(
    typed("p", encoder.encode(await scram.final(decoder.decode(serverFirst.body.subarray(4))))),
  );
  const rest = await until("Z");
  if (rest.some((m) => m.type === "E")) throw new Error("refused");
  return {
    async exchange(...messages) {
      for (const message of messages) await conn.write(message);
      return await until("Z");
    },
    close: () => conn.close(),
  };
}
