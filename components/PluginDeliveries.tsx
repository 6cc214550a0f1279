/**
 * The dashboard's plugin card: each configured plugin with the events it dead-lettered
 * (refused for good by its destination) and, when there are any, a button to replay them.
 *
 * @module
 */
import { formatCount } from "./format.ts";

/** Props of {@linkcode PluginDeliveries}. */
export interface PluginDeliveriesProps {
  /** Configured plugins with their dead-lettered counts. */
  plugins: Array<{ name: string; deadLettered: number }>;
  /** The form's CSRF token. */
  csrf: string;
  /** What the last replay did, to show above the table. */
  notice?: string;
}

/** The plugins and their dead letters, as a card. */
export function PluginDeliveries(props: PluginDeliveriesProps) {
  return (
    <section class="card" aria-labelledby="plugins-title">
      <h2 id="plugins-title">Plugins</h2>
      {props.notice && <p role="status">{props.notice}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Plugin</th>
            <th scope="col">Dead-lettered</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {props.plugins.map((p) => (
            <tr key={p.name} data-plugin={p.name}>
              <td>{p.name}</td>
              <td class="num" data-dead-lettered={p.deadLettered}>{formatCount(p.deadLettered)}</td>
              <td>
                {p.deadLettered > 0 && (
                  <form method="post" action={`/analytics/plugins/${p.name}/replay`}>
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <button type="submit">Replay</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
