/**
 * The page shell every server-rendered page uses: head, styles, navigation, and the small
 * script that shows times in the viewer's time zone (UTC stays in brackets).
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { useContext } from "preact/hooks";
import { CspNonce } from "../hydration/render.ts";

const STYLES = `
:root{--ink:#111827;--muted:#4b5563;--line:#d1d5db;--bg:#f9fafb;--card:#fff;--brand:#1d4ed8;--good:#047857;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--brand)}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:9}
header.top{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:12px 20px;background:#0f172a;color:#fff}
header.top a{color:#fff;text-decoration:none;margin-right:16px}header.top a[aria-current]{text-decoration:underline}
header.top form{display:inline}header.top button{background:none;border:1px solid #94a3b8;color:#fff;border-radius:6px;padding:4px 10px;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:20px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.15rem;margin:0 0 8px}h2 small{color:var(--muted);font-weight:normal;font-size:.85rem}
.hint,.muted{color:var(--muted);font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px}
.kpi{container-type:inline-size;min-width:0}.kpi .label{color:var(--muted);font-size:.85rem}
.kpi .value{font-size:min(1.45rem,calc(160cqi / var(--chars,8)));line-height:1.3;font-weight:650;white-space:nowrap;font-variant-numeric:tabular-nums}
.num,.date{white-space:nowrap}
.chart-card.loading .chart-box,.chart-card.loading table,.chart-card.loading h2,.chart-card.loading .hint{opacity:.45;transition:opacity .15s}
.field-error{flex-basis:100%;margin:0;color:var(--bad);font-weight:600;font-size:.9rem}
[aria-invalid=true]{border-color:var(--bad)}
.up{color:var(--good)}.down{color:var(--bad)}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:end;margin-bottom:12px}
.controls label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}.controls label.inline{flex-direction:row;gap:6px;align-items:center}
select,input,button{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px;background:#fff;color:var(--ink)}
button.primary{background:var(--brand);color:#fff;border-color:var(--brand);cursor:pointer}
.chart-box{position:relative;height:320px}
table.data{border-collapse:collapse;width:100%;font-size:.9rem}table.data th,table.data td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#dbeafe;height:8px;border-radius:4px}
.funnel-bar{margin:8px 0}.funnel-bar .bar{background:#60a5fa}ol.steps{display:flex;flex-wrap:wrap;gap:8px;padding-left:0;list-style:none}
.grid2{display:grid;grid-template-columns:2fr 1fr;gap:16px}@media (max-width:800px){.grid2{grid-template-columns:1fr}}
.events details{border-bottom:1px solid var(--line);padding:6px 0}.events summary{cursor:pointer;display:flex;flex-wrap:wrap;gap:12px}
.events pre{background:#f3f4f6;padding:10px;overflow:auto;border-radius:6px}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:end}.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
.pager{display:flex;gap:16px;margin-top:12px}
.login{max-width:380px;margin:8vh auto}.login form{display:flex;flex-direction:column;gap:12px}.login label{display:flex;flex-direction:column}
.error{color:var(--bad);font-weight:600}
code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
`;

const LOCAL_TIMES =
  `for(const t of document.querySelectorAll("time[data-local]")){const d=new Date(t.dateTime);if(!isNaN(d))t.textContent=d.toLocaleString(undefined,{dateStyle:"medium",timeStyle:"medium"})+" ("+t.textContent+")"}`;

/** Props of {@linkcode Layout}. */
export interface LayoutProps {
  /** The page title. */
  title: string;
  /** Which navigation entry is current. */
  current?: string;
  /** The signed-in user's email, to show and offer sign-out. */
  email?: string | null;
  /** The CSRF token for the sign-out form. */
  csrf?: string;
  /** Whether to show the analytics links (not to someone who may not open them). @default {true} */
  nav?: boolean;
  /** The page. */
  children: ComponentChildren;
}

/** The page shell. */
export function Layout(props: LayoutProps) {
  const nonce = useContext(CspNonce);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Beacon`}</title>
        <link rel="icon" href="data:," />
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        {props.email !== undefined && (
          <header class="top">
            <nav aria-label="Main">
              <strong style="margin-right:20px">Beacon</strong>
              {props.nav !== false && (
                <>
                  <a
                    href="/analytics"
                    aria-current={props.current === "analytics" ? "page" : undefined}
                  >
                    Analytics
                  </a>
                  <a
                    href="/analytics/events"
                    aria-current={props.current === "events" ? "page" : undefined}
                  >
                    Events
                  </a>
                  <a
                    href="/analytics/retention"
                    aria-current={props.current === "retention" ? "page" : undefined}
                  >
                    Retention
                  </a>
                  <a
                    href="/analytics/lifecycle"
                    aria-current={props.current === "lifecycle" ? "page" : undefined}
                  >
                    Lifecycle
                  </a>
                  <a
                    href="/analytics/funnels"
                    aria-current={props.current === "funnels" ? "page" : undefined}
                  >
                    Funnels
                  </a>
                  <a
                    href="/analytics/trends"
                    aria-current={props.current === "trends" ? "page" : undefined}
                  >
                    Trends
                  </a>
                  <a
                    href="/analytics/revenue"
                    aria-current={props.current === "revenue" ? "page" : undefined}
                  >
                    Revenue
                  </a>
                  <a
                    href="/analytics/sql"
                    aria-current={props.current === "sql" ? "page" : undefined}
                  >
                    SQL
                  </a>
                </>
              )}
            </nav>
            <div>
              <span style="margin-right:12px">{props.email}</span>
              <form method="post" action="/logout">
                <input type="hidden" name="csrf" value={props.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </div>
          </header>
        )}
        <main id="main">{props.children}</main>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: LOCAL_TIMES }} />
      </body>
    </html>
  );
}

/** A time shown in the viewer's time zone once the page loads, with UTC stated. */
export function LocalTime(props: { iso: string }) {
  const utc = `${props.iso.slice(0, 10)} ${props.iso.slice(11, 19)} UTC`;
  return <time dateTime={props.iso} data-local="">{utc}</time>;
}
