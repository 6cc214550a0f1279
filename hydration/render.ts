/**
 * The server half of Beacon's islands: render a page to HTML, wrapping each island in a
 * `<beacon-island data-name data-index>` marker, and write one state script plus a module
 * script that loads only the islands the page rendered.
 *
 * @module
 */
import { type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { serializeState } from "./transport.ts";

/** An island the page rendered. */
export interface RenderedIsland {
  /** The island's name: its file name in `islands/` without `.tsx`. */
  name: string;
  /** The props it was rendered with. */
  props: unknown;
}

let collecting: RenderedIsland[] | null = null;

/**
 * Makes a component an island on the server: rendered as usual, inside a marker that
 * names it and points at its props in the state script.
 *
 * @param name The island's file name in `islands/` (without `.tsx`).
 * @param Component The island's default export.
 * @returns The component to use in pages.
 *
 * @example
 * ```tsx
 * import TimeSeriesChart from "../islands/TimeSeriesChart.tsx";
 * const Chart = island("TimeSeriesChart", TimeSeriesChart);
 * // <Chart series={...} />
 * ```
 */
export function island<P>(name: string, Component: ComponentType<P>): ComponentType<P> {
  function Island(props: P) {
    if (collecting === null) {
      throw new Error(`island ${name} rendered outside renderWithIslands`);
    }
    const index = collecting.push({ name, props }) - 1;
    return h(
      "beacon-island",
      { "data-name": name, "data-index": String(index), style: "display:contents" },
      h(Component as ComponentType<Record<string, unknown>>, props as Record<string, unknown>),
    );
  }
  Island.displayName = `Island(${name})`;
  return Island;
}

/**
 * Renders a page and collects the islands it contains.
 *
 * @param vnode The page.
 * @returns The HTML and the islands, in page order.
 */
export function renderWithIslands(vnode: VNode): { html: string; islands: RenderedIsland[] } {
  const previous = collecting;
  const islands: RenderedIsland[] = [];
  collecting = islands;
  try {
    return { html: renderToString(vnode), islands };
  } finally {
    collecting = previous;
  }
}

/**
 * The scripts that hydrate a page's islands: the state script and a module script that
 * imports the runtime and only the islands rendered. Empty when there are none.
 *
 * @param islands What {@linkcode renderWithIslands} collected.
 * @param base The URL the island bundles are served from.
 * @param entries The build manifest's entries (plain name → content-hashed name); a name
 *   missing from it is loaded by its plain name.
 * @returns HTML to put at the end of `<body>`.
 */
export function islandScripts(
  islands: RenderedIsland[],
  base = "/_islands",
  entries: Record<string, string> = {},
): string {
  if (islands.length === 0) return "";
  const url = (plain: string) => `${base}/${entries[plain] ?? plain}`;
  const names = [...new Set(islands.map((i) => i.name))];
  const imports = names.map((name, i) => `import I${i} from "${url(`islands/${name}.js`)}";`)
    .join("");
  const table = names.map((name, i) => `${JSON.stringify(name)}:I${i}`).join(",");
  return `<script id="__BEACON_ISLANDS__" type="application/json">${
    serializeState(islands.map((i) => i.props))
  }</script><script type="module">import{revive}from"${
    url("hydration/revive.js")
  }";${imports}revive({${table}});</script>`;
}
