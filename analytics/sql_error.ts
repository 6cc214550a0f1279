/**
 * The SQL page's error: Beacon's refusal of a query, or PostgreSQL's error as it said it
 * (message, detail, hint, position), answered with 400 and never a 500.
 *
 * @module
 */
import { ApiError } from "../http/errors.ts";

/** A refused or failed query: Beacon's refusal, or PostgreSQL's error as it said it. */
export class SqlQueryError extends ApiError {
  /** PostgreSQL's SQLSTATE, when PostgreSQL refused. */
  readonly sqlstate?: string;
  /** PostgreSQL's detail. */
  readonly detail?: string;
  /** PostgreSQL's hint (or Beacon's). */
  readonly hint?: string;
  /** 1-based character position in the query as typed. */
  readonly position?: number;

  /**
   * @param code `query_failed` (PostgreSQL's error) or Beacon's refusal code.
   * @param message What was wrong.
   * @param extra SQLSTATE, detail, hint, position.
   */
  constructor(
    code: string,
    message: string,
    extra: { sqlstate?: string; detail?: string; hint?: string; position?: number } = {},
  ) {
    super(400, code, message, { field: "sql" });
    this.name = "SqlQueryError";
    this.sqlstate = extra.sqlstate;
    this.detail = extra.detail;
    this.hint = extra.hint;
    this.position = extra.position;
  }

  /** The JSON body: `{"error", "field", "message", "sqlstate"?, "detail"?, "hint"?, "position"?}`. */
  override toJSON() {
    return {
      ...super.toJSON(),
      ...(this.sqlstate ? { sqlstate: this.sqlstate } : {}),
      ...(this.detail ? { detail: this.detail } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.position ? { position: this.position } : {}),
    };
  }
}
