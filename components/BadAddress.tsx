/**
 * The body of the 400 page of /analytics and /analytics/events: what in the address was
 * wrong, and a link back to the defaults.
 *
 * @module
 */

/** Props of {@linkcode BadAddress}. */
export interface BadAddressProps {
  /** What was wrong, as a sentence. */
  message: string;
  /** The page with its defaults. */
  restartHref: string;
}

/** A refused address and the way back. */
export function BadAddress(props: BadAddressProps) {
  return (
    <div class="card">
      <h1>That address asks for something Beacon cannot show</h1>
      <p class="error">{props.message}</p>
      <p>
        <a href={props.restartHref}>Start again with the defaults</a>
      </p>
    </div>
  );
}
