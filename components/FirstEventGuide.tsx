/**
 * The first-run guide of /analytics: shown until the app has sent its first event, it says
 * how to send one (supabase-js, or HTTP with the ingest key).
 *
 * @module
 */

/** How to send a first event. */
export function FirstEventGuide() {
  return (
    <section class="card" aria-labelledby="empty-title" data-empty-guide="">
      <h2 id="empty-title">No events yet</h2>
      <p>Beacon shows charts as soon as your app records events. Send one in either way:</p>
      <p>
        From your app with supabase-js (row-level security decides what is allowed):
      </p>
      <pre><code>{`await supabase.from("events").insert({ event_type: "page_view", anonymous_id: "device-1" });`}</code></pre>
      <p>Or over HTTP with the ingest key Beacon printed on its first start:</p>
      <pre><code>{`curl -X POST ${"<beacon>"}/api/v1/events -H "content-type: application/json" \\
  -H "apikey: <ingest key>" -d '{"event": "page_view", "anonymous_id": "device-1"}'`}</code></pre>
      <p>See README.md, "Sending events", for the fields and limits.</p>
    </section>
  );
}
