/**
 * What one Beacon event becomes in Matomo: a tracking request's query string (pure; the
 * mapping is described in `plugins/matomo.ts`).
 *
 * @module
 */
import type { PluginEvent } from "./mod.ts";

/** Which site, and which events are page views. */
export interface MatomoMappingOptions {
  /** The site's id in Matomo (`idsite`). */
  siteId: number;
  /** Where relative page paths (payload `path`) are resolved. @default {undefined} */
  siteUrl?: string;
  /** The event types sent as page views. @default {DEFAULT_PAGE_VIEW_TYPES} */
  pageViewTypes?: string[];
}

/** The event types forwarded as page views unless `pageViewTypes` says otherwise. */
export const DEFAULT_PAGE_VIEW_TYPES = [
  "$pageview",
  "page_view",
  "pageview",
  "$screen",
  "screen_view",
];

/**
 * The visitor id Matomo gets for a person: the first 16 hex digits of SHA-1 of their id,
 * as Matomo derives a visitor id from a `uid`.
 *
 * @param personId The user id, else the anonymous id.
 * @returns 16 lower-case hex digits.
 */
export async function matomoVisitorId(personId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(personId));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function text(properties: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = properties[key];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

function numeric(properties: Record<string, unknown>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = properties[key];
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "string" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.trim())) {
      return value.trim();
    }
  }
  return undefined;
}

function pageUrl(properties: Record<string, unknown>, siteUrl?: string): string | undefined {
  const url = text(properties, ["url", "$current_url", "path"]);
  if (url === undefined || !siteUrl) return url;
  try {
    return new URL(url, siteUrl).href;
  } catch {
    return url;
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url, "http://x").pathname;
  } catch {
    return url;
  }
}

/**
 * The category of an event without one in its payload: the event type's prefix before its
 * first `.`, `:` or `_`, else `beacon`.
 *
 * @param eventType The event type.
 * @returns The Matomo event category.
 */
export function defaultCategory(eventType: string): string {
  const prefix = /^([^.:_]+)[.:_]./.exec(eventType)?.[1];
  return prefix && prefix.trim() !== "" ? prefix : "beacon";
}

/**
 * The tracking request (a query string) a Beacon event becomes (pure: no network).
 *
 * @param event A Beacon event.
 * @param options The site, and which events are page views.
 * @returns The query string, starting with `?`.
 */
export async function toMatomoRequest(
  event: PluginEvent,
  options: MatomoMappingOptions,
): Promise<string> {
  const p = event.properties ?? {};
  const visitor = await matomoVisitorId(event.userId ?? event.anonymousId ?? event.id);
  const params = new URLSearchParams({
    idsite: String(options.siteId),
    rec: "1",
    apiv: "1",
    _id: visitor,
    cdt: String(Math.floor(Date.parse(event.timestamp) / 1000)),
  });
  if (event.userId) params.set("uid", event.userId);
  else params.set("cid", visitor);
  const url = pageUrl(p, options.siteUrl);
  if ((options.pageViewTypes ?? DEFAULT_PAGE_VIEW_TYPES).includes(event.event)) {
    if (url !== undefined) params.set("url", url);
    const title = text(p, ["title", "$title", "$screen_name"]) ?? (url && pathOf(url));
    if (title) params.set("action_name", title);
  } else {
    params.set("ca", "1");
    params.set("e_c", text(p, ["category", "event_category"]) ?? defaultCategory(event.event));
    params.set("e_a", text(p, ["action", "event_action"]) ?? event.event);
    const name = text(p, ["name", "event_name", "label"]);
    if (name !== undefined) params.set("e_n", name);
    const value = numeric(p, ["value", "event_value"]);
    if (value !== undefined) params.set("e_v", value);
    if (url !== undefined) params.set("url", url);
  }
  return `?${params}`;
}
