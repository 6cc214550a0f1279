/**
 * The ingestion load generator, run as its own process so it does not share Beacon's
 * event loop: POSTs prepared request bodies to Beacon with a fixed concurrency over
 * loopback, and prints `{ "events": N, "seconds": S, "errors": E, "p50Ms": A, "p99Ms": B }`
 * (the last two: each request's time from sending to the whole answer read).
 *
 * Usage: deno run -A bench/load_generator.ts URL INGEST_KEY BODIES_FILE CONCURRENCY
 * where BODIES_FILE holds one JSON request body per line.
 *
 * @module
 */

if (import.meta.main) {
  const [url, key, file, concurrencyText] = Deno.args;
  if (!url?.startsWith("http://127.0.0.1:") || !key || !file) {
    console.error("usage: load_generator.ts http://127.0.0.1:PORT KEY BODIES_FILE [CONCURRENCY]");
    Deno.exit(2);
  }
  const bodies = (await Deno.readTextFile(file)).split("\n").filter((line) => line.length > 0);
  const concurrency = Number(concurrencyText ?? 4);
  let next = 0;
  let events = 0;
  let errors = 0;
  const latencies: number[] = [];
  const deadline = Date.now() + 300_000;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length && Date.now() < deadline) {
      const body = bodies[next++];
      const sent = performance.now();
      const res = await fetch(`${url}/api/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", apikey: key },
        body,
      });
      const answer = await res.json();
      latencies.push(performance.now() - sent);
      if (res.status !== 200 || answer.rejected.length > 0) errors++;
      events += answer.accepted ?? 0;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(JSON.stringify({ events, seconds, errors, p50Ms: at(0.5), p99Ms: at(0.99) }));
}
