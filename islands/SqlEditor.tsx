/**
 * The SQL page's island: the query box (Ctrl/Cmd+Enter runs), the result as a paged table
 * (numbers right-aligned, NULL shown as such), a line or bar chart when the result has a
 * date or text column and numeric ones, the CSV link, PostgreSQL's error with its position
 * marked, the query kept in the address, and saved queries. It talks to `/api/v1/sql/*`.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import ReportChart from "./ReportChart.tsx";

/** A column of a result (as `/api/v1/sql/query` answers). */
export interface SqlEditorColumn {
  name: string;
  kind: "number" | "date" | "boolean" | "text";
}

/** A saved query (as `/api/v1/sql/saved` answers). */
export interface SqlEditorSaved {
  id: string;
  name: string;
  sql: string;
  mine: boolean;
}

/** Props of {@linkcode SqlEditor}. */
export interface SqlEditorProps {
  /** The query from the address (`?sql=`), run on load when present. */
  initialSql: string;
  /** The saved queries readable by the viewer. */
  saved: SqlEditorSaved[];
}

interface Result {
  columns: SqlEditorColumn[];
  rows: (string | null)[][];
  truncated: boolean;
  max_rows: number;
  elapsedMs: number;
}

interface Failure {
  error: string;
  message: string;
  sqlstate?: string;
  detail?: string;
  hint?: string;
  position?: number;
}

const PAGE = 100;
const COLORS = ["#1d4ed8", "#047857", "#b45309", "#7c3aed", "#be123c", "#0e7490"];

/** Which chart a result gets: x is its first date (else text) column, y its numeric ones. */
export function chartOf(
  columns: SqlEditorColumn[],
): { x: number; ys: number[]; type: "line" | "bar" } | null {
  const ys = columns.flatMap((c, i) => (c.kind === "number" ? [i] : []));
  let x = columns.findIndex((c) => c.kind === "date");
  const type = x >= 0 ? "line" : "bar";
  if (x < 0) x = columns.findIndex((c) => c.kind === "text");
  return x >= 0 && ys.length > 0 ? { x, ys, type } : null;
}

/** The SQL editor island. */
export default function SqlEditor(props: SqlEditorProps) {
  const sql = useSignal(props.initialSql);
  const result = useSignal<Result | null>(null);
  const failure = useSignal<(Failure & { sql: string }) | null>(null);
  const running = useSignal(false);
  const page = useSignal(0);
  const chartType = useSignal<"line" | "bar" | null>(null);
  const runs = useSignal(0);
  const saved = useSignal(props.saved);
  const saveName = useSignal("");
  const note = useSignal("");
  const box = useRef<HTMLTextAreaElement>(null);

  async function run() {
    const text = sql.value;
    if (!text.trim() || running.value) return;
    running.value = true;
    const url = new URL(location.href);
    url.searchParams.set("sql", text);
    history.replaceState(null, "", url);
    try {
      const response = await fetch("/api/v1/sql/query", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: text }),
      });
      const body = await response.json();
      if (response.ok) {
        result.value = body;
        failure.value = null;
        page.value = 0;
        chartType.value = null;
        runs.value++;
      } else {
        result.value = null;
        failure.value = { ...body, sql: text };
        if (body.position && box.current) {
          const at = body.position - 1;
          const end = at + (text.slice(at).match(/^\w+/)?.[0].length || 1);
          box.current.focus();
          box.current.setSelectionRange(at, end);
        }
      }
    } catch (error) {
      failure.value = { error: "network", message: String(error), sql: text };
    } finally {
      running.value = false;
    }
  }

  useEffect(() => {
    if (props.initialSql.trim()) run();
  }, []);

  async function refreshSaved() {
    const response = await fetch("/api/v1/sql/saved");
    if (response.ok) saved.value = (await response.json()).queries;
  }

  async function save() {
    const response = await fetch("/api/v1/sql/saved", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: saveName.value, sql: sql.value }),
    });
    note.value = response.ok
      ? `Saved as "${saveName.value.trim()}".`
      : (await response.json()).message;
    if (response.ok) await refreshSaved();
  }

  const r = result.value;
  const f = failure.value;
  const chart = r ? chartOf(r.columns) : null;
  const type = chartType.value ?? chart?.type ?? "line";
  const rows = r ? r.rows.slice(page.value * PAGE, (page.value + 1) * PAGE) : [];
  const pages = r ? Math.max(1, Math.ceil(r.rows.length / PAGE)) : 1;
  return (
    <div class="sql-editor">
      <label for="sql-box">Query</label>
      <textarea
        id="sql-box"
        ref={box}
        rows={8}
        spellcheck={false}
        style="width:100%;font-family:ui-monospace,monospace"
        value={sql.value}
        onInput={(e) => (sql.value = (e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            run();
          }
        }}
      />
      <div class="controls" style="margin-top:8px">
        <button type="button" class="primary" onClick={run} disabled={running.value}>
          {running.value ? "Running…" : "Run"}
        </button>
        <span class="hint">Ctrl/Cmd+Enter runs the query.</span>
        {r && (
          <a id="sql-csv" href={`/api/v1/sql/query.csv?sql=${encodeURIComponent(sql.value)}`}>
            Download CSV
          </a>
        )}
        <label class="inline">
          Save as{" "}
          <input
            id="sql-save-name"
            value={saveName.value}
            onInput={(e) => (saveName.value = (e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="button" onClick={save} disabled={!saveName.value.trim()}>Save</button>
        {note.value && <span class="hint" role="status">{note.value}</span>}
      </div>
      {f && (
        <div class="card sql-error" role="alert">
          <p class="error">{f.message}</p>
          {f.detail && <p>Detail: {f.detail}</p>}
          {f.hint && <p>Hint: {f.hint}</p>}
          {f.position && (
            <pre>
              {f.sql.slice(0, f.position - 1)}
              <mark class="sql-error-at">
                {f.sql.slice(f.position - 1).match(/^\w+/)?.[0] || f.sql[f.position - 1] || " "}
              </mark>
              {f.sql.slice(f.position - 1 + (f.sql.slice(f.position - 1).match(/^\w+/)?.[0].length || 1))}
            </pre>
          )}
        </div>
      )}
      {r && (
        <div class="card" style="margin-top:12px">
          <p class="hint" id="sql-summary">
            {r.rows.length} row{r.rows.length === 1 ? "" : "s"} in {r.elapsedMs} ms
            {r.truncated && ` (the first ${r.max_rows}; download the CSV for the rest)`}
          </p>
          {chart && (
            <div>
              <div class="controls" role="group" aria-label="Chart type">
                {(["line", "bar"] as const).map((t) => (
                  <button
                    type="button"
                    aria-pressed={type === t}
                    onClick={() => (chartType.value = t)}
                  >
                    {t === "line" ? "Line" : "Bar"}
                  </button>
                ))}
              </div>
              <div class="sql-chart" data-type={type}>
                <ReportChart
                  key={`${runs.value}-${type}`}
                  type={type}
                  title={`${r.columns[chart.ys[0]].name} by ${r.columns[chart.x].name}`}
                  labels={r.rows.map((row) => row[chart.x] ?? "NULL")}
                  datasets={chart.ys.map((y, i) => ({
                    label: r.columns[y].name,
                    data: r.rows.map((row) => (row[y] === null ? null : Number(row[y]))),
                    color: COLORS[i % COLORS.length],
                  }))}
                />
              </div>
            </div>
          )}
          <div style="overflow:auto">
            <table class="data sql-result">
              <thead>
                <tr>
                  {r.columns.map((c) => (
                    <th class={c.kind === "number" ? "num" : undefined}>{c.name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr>
                    {row.map((v, i) => (
                      <td class={r.columns[i].kind === "number" ? "num" : undefined}>
                        {v === null ? <span class="muted null">NULL</span> : v}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pages > 1 && (
            <div class="pager">
              <button type="button" disabled={page.value === 0} onClick={() => page.value--}>
                Previous
              </button>
              <span>Page {page.value + 1} of {pages}</span>
              <button type="button" disabled={page.value + 1 >= pages} onClick={() => page.value++}>
                Next
              </button>
            </div>
          )}
        </div>
      )}
      <h2 style="margin-top:16px">Saved queries</h2>
      {saved.value.length === 0 ? <p class="hint">None yet.</p> : (
        <ul class="sql-saved">
          {saved.value.map((q) => (
            <li>
              <button type="button" onClick={() => (sql.value = q.sql)}>{q.name}</button>
              {q.mine ? "" : " (someone else's)"}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
