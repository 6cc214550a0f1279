/**
 * Headless Chromium (Debian's package) driven by playwright-core, for the browser suites.
 * Never downloads a browser of its own.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** The Debian package the browser suites need. */
export const CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium";

/** What is missing for the browser suites (empty when all is there). */
export async function missingChromium(): Promise<string[]> {
  try {
    await Deno.stat(CHROMIUM);
    return [];
  } catch {
    return ["Chromium (chromium)"];
  }
}

/**
 * Whether to skip a browser suite: locally when Chromium is missing (printing how to install
 * it); never under `CI=true`, where the suite runs and fails instead.
 */
export function skipWithoutChromium(missing: string[]): boolean {
  if (missing.length === 0 || Deno.env.get("CI") === "true") return false;
  console.warn(`skipped: missing ${missing.join(", ")}. Install with: ${CHROMIUM_INSTALL}`);
  return true;
}

/** Launches headless Chromium with the flags that keep it off the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

/** Parses CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
