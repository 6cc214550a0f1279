/**
 * The islands layer in a real browser: two islands of the same kind on one page hydrate
 * independently, with their props (a signal among them) restored from the state script.
 */
import assert from "node:assert/strict";
import { signal } from "@preact/signals";
import { buildIslands, readIslandManifest } from "../hydration/build.ts";
import { island, islandScripts, renderWithIslands } from "../hydration/render.ts";
import Counter from "./fixtures/islands/Counter.tsx";
import { launchChromium, missingChromium, skipWithoutChromium } from "./support/browser.ts";

const missing = await missingChromium();
const CounterIsland = island("Counter", Counter);

Deno.test({
  name: "two islands of one kind hydrate independently in Chromium",
  ignore: skipWithoutChromium(missing),
  async fn() {
    assert.deepEqual(missing, []);
    const outDir = await Deno.makeTempDir({ prefix: "beacon-islands-" });
    const root = new URL("./fixtures/", import.meta.url).pathname;
    await buildIslands({ root, outDir });
    const manifest = await readIslandManifest(outDir);
    const { html, islands } = renderWithIslands(
      <body>
        <CounterIsland label="first" start={signal(3)} tags={["x", "</script>"]} />
        <CounterIsland label="second" start={signal(10)} tags={[]} />
      </body>,
    );
    const page = `<!DOCTYPE html><html>${
      html.replace(
        "</body>",
        `${islandScripts(islands, "/_islands", { entries: manifest!.entries })}</body>`,
      )
    }</html>`;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response(page, { headers: { "content-type": "text/html" } });
      if (path.startsWith("/_islands/") && !path.includes("..")) {
        return new Response(await Deno.readFile(`${outDir}/${path.slice(10)}`), {
          headers: { "content-type": "text/javascript" },
        });
      }
      return new Response("not found", { status: 404 });
    });
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(`http://127.0.0.1:${server.addr.port}/`);
      const first = tab.locator('[data-label="first"]');
      const second = tab.locator('[data-label="second"]');
      await assert.doesNotReject(first.locator("output").getByText("3").waitFor());
      await first.getByRole("button").click();
      await first.getByRole("button").click();
      await second.getByRole("button").click();
      assert.equal(await first.locator("output").textContent(), "5");
      assert.equal(await second.locator("output").textContent(), "11");
      assert.deepEqual(await first.locator("li").allTextContents(), ["x", "</script>"]);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
