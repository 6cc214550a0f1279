/**
 * The browser half of Beacon's islands: find each `<beacon-island>` marker, take its props
 * from the state script, and hydrate the island's component into it.
 *
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";
import { fromTransport } from "./transport.ts";

/**
 * Hydrates every island marker on the page whose component is given.
 *
 * @param components The islands this page loaded, by name.
 * @param root Where to look. @default {document}
 * @returns How many islands were hydrated.
 */
export function revive(
  // deno-lint-ignore no-explicit-any
  components: Record<string, ComponentType<any>>,
  root: Document = document,
): number {
  const state = JSON.parse(root.getElementById("__BEACON_ISLANDS__")?.textContent || "[]");
  let count = 0;
  for (const marker of root.querySelectorAll<HTMLElement>("beacon-island")) {
    const Component = components[marker.dataset.name ?? ""];
    const props = state[Number(marker.dataset.index)];
    if (!Component || props === undefined) continue;
    hydrate(h(Component, fromTransport(props) as Record<string, unknown>), marker);
    count++;
  }
  return count;
}
