/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677), the server's side, as PostgreSQL speaks it: the
 * password is kept only as a verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * PostgreSQL's own format), and a client proves it knows the password without sending it.
 *
 * @module
 */

const ITERATIONS = 4096;
const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

type Bytes = Uint8Array<ArrayBuffer>;

function fromBase64(text: string): Bytes {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function hmac(key: Bytes, data: string | Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, bytes));
}

async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/** The keys a server keeps for one password. */
export interface ScramVerifier {
  /** PBKDF2 iterations. */
  iterations: number;
  /** The salt. */
  salt: Bytes;
  /** H(HMAC(SaltedPassword, "Client Key")). */
  storedKey: Bytes;
  /** HMAC(SaltedPassword, "Server Key"). */
  serverKey: Bytes;
}

/**
 * Makes a verifier for a password, with a new random salt.
 *
 * @param password The password (used as given; SASLprep is the identity for ASCII).
 * @returns The verifier in PostgreSQL's text format.
 *
 * @example
 * ```ts
 * const stored = await createScramVerifier("correct horse battery staple");
 * // "SCRAM-SHA-256$4096:...$...:..."
 * ```
 */
export async function createScramVerifier(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
      base,
      256,
    ),
  );
  const storedKey = await sha256(await hmac(salted, "Client Key"));
  const serverKey = await hmac(salted, "Server Key");
  return `SCRAM-SHA-256$${ITERATIONS}:${toBase64(salt)}$${toBase64(storedKey)}:${
    toBase64(serverKey)
  }`;
}

/**
 * Reads a verifier in PostgreSQL's text format.
 *
 * @param text `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 * @returns The keys.
 * @throws {Error} When the text is not such a verifier.
 */
export function parseScramVerifier(text: string): ScramVerifier {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(text);
  if (!match) throw new Error("not a SCRAM-SHA-256 verifier");
  return {
    iterations: Number(match[1]),
    salt: fromBase64(match[2]),
    storedKey: fromBase64(match[3]),
    serverKey: fromBase64(match[4]),
  };
}

/** One exchange, from the server's side: two steps, then a verdict. */
export interface ScramExchange {
  /**
   * Takes the client-first-message and answers the server-first-message.
   *
   * @param clientFirst e.g. `n,,n=,r=<client nonce>`.
   * @returns The server-first-message, or undefined when the message is malformed.
   */
  first(clientFirst: string): string | undefined;
  /**
   * Takes the client-final-message and checks the proof.
   *
   * @param clientFinal e.g. `c=biws,r=<nonce>,p=<proof>`.
   * @returns The server-final-message (`v=<signature>`) when the proof is right, else undefined.
   */
  final(clientFinal: string): Promise<string | undefined>;
}

function attributes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq === 1) map.set(part[0], part.slice(2));
  }
  return map;
}

/**
 * Starts a SCRAM-SHA-256 exchange against a verifier (no channel binding: `n,,` or `y,,`).
 *
 * @param verifier The stored keys.
 * @returns The exchange.
 */
export function startScramExchange(verifier: ScramVerifier): ScramExchange {
  let clientFirstBare = "";
  let serverFirst = "";
  let nonce = "";
  return {
    first(clientFirst) {
      const gs2 = /^([ny]),[^,]*,(.*)$/.exec(clientFirst);
      if (!gs2) return undefined;
      clientFirstBare = gs2[2];
      const clientNonce = attributes(clientFirstBare).get("r");
      if (!clientNonce) return undefined;
      nonce = clientNonce + toBase64(crypto.getRandomValues(new Uint8Array(18)));
      serverFirst = `r=${nonce},s=${toBase64(verifier.salt)},i=${verifier.iterations}`;
      return serverFirst;
    },
    async final(clientFinal) {
      if (!serverFirst) return undefined;
      const proofAt = clientFinal.lastIndexOf(",p=");
      if (proofAt < 0) return undefined;
      const withoutProof = clientFinal.slice(0, proofAt);
      const attrs = attributes(clientFinal);
      if (attrs.get("r") !== nonce) return undefined;
      let proof: Bytes;
      try {
        proof = fromBase64(clientFinal.slice(proofAt + 3));
      } catch {
        return undefined;
      }
      if (proof.length !== verifier.storedKey.length) return undefined;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = await hmac(verifier.storedKey, authMessage);
      const clientKey = proof.map((byte, i) => byte ^ signature[i]);
      const computed = await sha256(clientKey);
      let diff = 0;
      for (let i = 0; i < computed.length; i++) diff |= computed[i] ^ verifier.storedKey[i];
      if (diff !== 0) return undefined;
      return `v=${toBase64(await hmac(verifier.serverKey, authMessage))}`;
    },
  };
}
