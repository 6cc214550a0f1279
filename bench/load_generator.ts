/**
 * The ingestion load generator, run as its own process so it does not share Beacon's
 * event loop: POSTs prepared request bodies to Beacon with a fixed concurrency over
 * loopback, and prints `{ "events": N, "seconds": S, "errors": E, "p50Ms": A, "p99Ms": B }`
 * (the last two: each request's time from sending to the whole answer read).
 *
 * Each client is one kept-alive HTTP/1.1 connection written and read directly over TCP, as
 * load tools such as wrk do: Beacon and this process share the machine's cores, and
 * `fetch` spent about 120 µs of CPU per request here, taken from the server being measured.
 * Every answer is still read whole: its status must be 200 and its JSON must report no
 * rejected event, and `events` sums its `accepted`. A request that fails (the connection
 * closed, an answer without content-length) counts as an error and the connection is opened
 * again.
 *
 * Usage: deno run -A bench/load_generator.ts URL INGEST_KEY BODIES_FILE CONCURRENCY
 * where BODIES_FILE holds one JSON request body per line.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = encoder.encode("\r\n\r\n");

/** One parsed answer. */
interface Answer {
  status: number;
  body: string;
}

/** A kept-alive HTTP/1.1 connection that sends one request at a time. */
class Client {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(64 * 1024);
  #size = 0;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(hostname: string, port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new Client(conn);
  }

  async #fill(): Promise<void> {
    if (this.#size === this.#buffer.length) {
      const grown = new Uint8Array(this.#buffer.length * 2);
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#size));
    if (n === null) throw new Error("the server closed the connection");
    this.#size += n;
  }

  #take(n: number): Uint8Array {
    const out = this.#buffer.slice(0, n);
    this.#buffer.copyWithin(0, n, this.#size);
    this.#size -= n;
    return out;
  }

  async post(request: Uint8Array): Promise<Answer> {
    let written = 0;
    while (written < request.length) written += await this.#conn.write(request.subarray(written));
    let end = -1;
    while ((end = indexOf(this.#buffer.subarray(0, this.#size), HEAD_END)) < 0) await this.#fill();
    const head = decoder.decode(this.#take(end + HEAD_END.length));
    const status = Number(head.slice(9, 12));
    const length = head.match(/\r\ncontent-length:\s*(\d+)/i)?.[1];
    if (length === undefined) throw new Error(`an answer without content-length: ${head}`);
    while (this.#size < Number(length)) await this.#fill();
    return { status, body: decoder.decode(this.#take(Number(length))) };
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

if (import.meta.main) {
  const [url, key, file, concurrencyText] = Deno.args;
  if (!url?.startsWith("http://127.0.0.1:") || !key || !file) {
    console.error("usage: load_generator.ts http://127.0.0.1:PORT KEY BODIES_FILE [CONCURRENCY]");
    Deno.exit(2);
  }
  const target = new URL(url);
  const requests = (await Deno.readTextFile(file)).split("\n").filter((line) => line.length > 0)
    .map((body) => {
      const bytes = encoder.encode(body);
      const head = `POST /api/v1/events HTTP/1.1\r\nhost: ${target.host}\r\n` +
        `content-type: application/json\r\napikey: ${key}\r\ncontent-length: ${bytes.length}\r\n\r\n`;
      const request = new Uint8Array(head.length + bytes.length);
      request.set(encoder.encode(head));
      request.set(bytes, head.length);
      return request;
    });
  const concurrency = Number(concurrencyText ?? 4);
  const clients = await Promise.all(
    Array.from({ length: concurrency }, () => Client.open(target.hostname, Number(target.port))),
  );
  let next = 0;
  let events = 0;
  let errors = 0;
  const latencies: number[] = [];
  const deadline = Date.now() + 300_000;
  const started = performance.now();
  await Promise.all(clients.map(async (first, i) => {
    let client = first;
    while (next < requests.length && Date.now() < deadline) {
      const request = requests[next++];
      const sent = performance.now();
      try {
        const answer = await client.post(request);
        latencies.push(performance.now() - sent);
        const result = JSON.parse(answer.body);
        if (answer.status !== 200 || result.rejected?.length !== 0) errors++;
        events += result.accepted ?? 0;
      } catch (error) {
        // Counted, told, and the connection opened again: the run goes on.
        errors++;
        console.error(`request failed: ${(error as Error).message}`);
        client.close();
        client = clients[i] = await Client.open(target.hostname, Number(target.port));
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  for (const client of clients) client.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(JSON.stringify({ events, seconds, errors, p50Ms: at(0.5), p99Ms: at(0.99) }));
}
