/**
 * The server half of Beacon's islands: render a page to HTML, wrapping each island in a
 * `<beacon-island data-name data-index>` marker, and write one state script plus a module
 * script that loads only the islands the page rendered.
 *
 * @module
 */
import { type ComponentType, createContext, h, type VNode } from "preact";
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
 * The Content-Security-Policy nonce of the page being rendered, for inline `<script>` and
 * `<style>` elements (`<script nonce={useContext(CspNonce)}>`). Undefined without one.
 */
export const CspNonce = createContext<string | undefined>(undefined);

/** Options for {@linkcode renderWithIslands} and {@linkcode islandScripts}. */
export interface RenderOptions {
  /** The request's CSP nonce, given to inline scripts and styles. @default {undefined} */
  nonce?: string;
}

/** Options for {@linkcode islandScripts}. */
export interface IslandScriptOptions extends RenderOptions {
  /**
   * The build manifest's entries: plain name → content-hashed name.
   * @default {{}}
   */
  entries?: Record<string, string>;
}

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
 * @param options The CSP nonce, provided to the page as {@linkcode CspNonce}.
 * @returns The HTML and the islands, in page order.
 */
export function renderWithIslands(
  vnode: VNode,
  options: RenderOptions = {},
): { html: string; islands: RenderedIsland[] } {
  const previous = collecting;
  const islands: RenderedIsland[] = [];
  collecting = islands;
  try {
    const page: VNode = options.nonce === undefined
      ? vnode
      : h(CspNonce.Provider, { value: options.nonce }, vnode) as VNode;
    return { html: renderToString(page), islands };
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
 * @param options The CSP nonce both scripts carry, and the build manifest's entries (plain
 *   name → content-hashed name; a name missing from it is loaded by its plain name).
 * @returns HTML to put at the end of `<body>`.
 */
export function islandScripts(
  islands: RenderedIsland[],
  base = "/_islands",
  options: IslandScriptOptions = {},
): string {
  if (islands.length === 0) return "";
  const nonce = options.nonce === undefined ? "" : ` nonce="${escapeAttribute(options.nonce)}"`;
  const entries = options.entries ?? {};
  const url = (plain: string) => `${base}/${entries[plain] ?? plain}`;
  const names = [...new Set(islands.map((i) => i.name))];
  const imports = names.map((name, i) => `import I${i} from "${url(`islands/${name}.js`)}";`)
    .join("");
  const table = names.map((name, i) => `${JSON.stringify(name)}:I${i}`).join(",");
  return `<script id="__BEACON_ISLANDS__" type="application/json"${nonce}>${
    serializeState(islands.map((i) => i.props))
  }</script><script type="module"${nonce}>import{revive}from"${
    url("hydration/revive.js")
  }";${imports}revive({${table}});</script>`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
