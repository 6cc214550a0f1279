/**
 * The SQL page's schema browser: the tables, views and functions of `analytics` and
 * `public` (from `analytics.sql_schema()`), each with its comment and columns.
 *
 * @module
 */

/** One object, as `analytics.sql_schema()` returns it. */
export interface SchemaObject {
  schema_name: string;
  object_name: string;
  kind: string;
  description: string | null;
  columns: { name: string; type: string; description: string | null }[];
}

/** The schema browser. */
export function SqlSchema(props: { objects: SchemaObject[] }) {
  return (
    <nav class="card sql-schema" aria-label="Schema" style="max-height:80vh;overflow:auto">
      <h2>Schema</h2>
      {["analytics", "public"].map((schema) => (
        <section>
          <h3 style="font-size:1rem;margin:8px 0 4px">{schema}</h3>
          {props.objects.filter((o) => o.schema_name === schema).map((o) => (
            <details>
              <summary>
                <code>{o.object_name}</code> <span class="muted">{o.kind}</span>
              </summary>
              {o.description && <p class="hint">{o.description}</p>}
              <ul style="padding-left:18px;margin:4px 0">
                {o.columns.map((c) => (
                  <li>
                    <code>{c.name}</code> <span class="muted">{c.type}</span>
                    {c.description && <span class="hint">: {c.description}</span>}
                  </li>
                ))}
              </ul>
            </details>
          ))}
        </section>
      ))}
    </nav>
  );
}
