/**
 * What a browser actually receives for a page: Debian's Chromium loads it over HTTP, signed
 * in, and Chrome's own network log (DevTools protocol) says how many bytes crossed the wire
 * for each response (headers and compressed body), which came from the cache without a
 * request, and which were revalidated (304). Once with an empty cache, once with the cache the
 * first load left.
 *
 * @module
 */
import { launchChromium } from "../tests/support/browser.ts";

/** One load of a page, as the browser's network log saw it. */
export interface PageLoad {
  /** Bytes on the wire for every response (headers + encoded body). */
  totalBytes: number;
  /** Bytes on the wire for JavaScript responses only. */
  scriptBytes: number;
  /** JavaScript responses fetched from the server with a body. */
  scriptsDownloaded: number;
  /** JavaScript responses the server answered 304 (revalidated, no body). */
  scriptsRevalidated: number;
  /** JavaScript responses taken from the browser's cache without asking the server. */
  scriptsFromCache: number;
  /** Every response, for the raw figures. */
  responses: Array<{ url: string; status: number; bytes: number; fromCache: boolean }>;
}

/** The two loads of one page. */
export interface WireWeight {
  /** The page's path. */
  path: string;
  /** With an empty cache. */
  first: PageLoad;
  /** Again, with the cache the first load left (a normal navigation, not a reload). */
  second: PageLoad;
}

/**
 * Measures the bytes a browser receives for `path`, signing in through the form first.
 *
 * @param baseUrl Where Beacon listens, e.g. `http://127.0.0.1:8000`.
 * @param path The page, e.g. `/analytics`.
 * @param account A superuser's email and password.
 * @returns The first and second load.
 */
export async function measureWire(
  baseUrl: string,
  path: string,
  account: { email: string; password: string },
): Promise<WireWeight> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/login?next=${encodeURIComponent("/login")}`);
    await page.fill('input[name="email"]', account.email);
    await page.fill('input[name="password"]', account.password);
    await Promise.all([page.waitForURL(/\/login/), page.click('button[type="submit"]')]);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.clearBrowserCache");

    const load = async (): Promise<PageLoad> => {
      const seen = new Map<
        string,
        { url: string; status: number; bytes: number; fromCache: boolean; script: boolean }
      >();
      const onResponse = (e: {
        requestId: string;
        type?: string;
        response: { url: string; status: number; mimeType: string; fromDiskCache?: boolean };
      }) => {
        seen.set(e.requestId, {
          url: e.response.url,
          status: e.response.status,
          bytes: 0,
          fromCache: e.response.fromDiskCache === true,
          script: e.type === "Script" || /javascript/.test(e.response.mimeType),
        });
      };
      const onCached = (e: { requestId: string }) => {
        const entry = seen.get(e.requestId);
        if (entry) entry.fromCache = true;
      };
      const onFinished = (e: { requestId: string; encodedDataLength: number }) => {
        const entry = seen.get(e.requestId);
        if (entry) entry.bytes = e.encodedDataLength;
      };
      cdp.on("Network.responseReceived", onResponse);
      cdp.on("Network.requestServedFromCache", onCached);
      cdp.on("Network.loadingFinished", onFinished);
      await page.goto(`${baseUrl}${path}`, { waitUntil: "networkidle" });
      cdp.off("Network.responseReceived", onResponse);
      cdp.off("Network.requestServedFromCache", onCached);
      cdp.off("Network.loadingFinished", onFinished);
      const all = [...seen.values()];
      const scripts = all.filter((r) => r.script);
      const wire = (r: { fromCache: boolean; bytes: number }) => r.fromCache ? 0 : r.bytes;
      return {
        totalBytes: all.reduce((sum, r) => sum + wire(r), 0),
        scriptBytes: scripts.reduce((sum, r) => sum + wire(r), 0),
        scriptsDownloaded: scripts.filter((r) => !r.fromCache && r.status === 200).length,
        scriptsRevalidated: scripts.filter((r) => !r.fromCache && r.status === 304).length,
        scriptsFromCache: scripts.filter((r) => r.fromCache).length,
        responses: all.map(({ url, status, bytes, fromCache }) => ({
          url: url.replace(baseUrl, ""),
          status,
          bytes: fromCache ? 0 : bytes,
          fromCache,
        })),
      };
    };
    const first = await load();
    await page.goto("about:blank");
    const second = await load();
    return { path, first, second };
  } finally {
    await browser.close();
  }
}
