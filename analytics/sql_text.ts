/**
 * What the SQL page checks in a query's text before PostgreSQL sees it: one statement, and
 * one that reads (SELECT, WITH, VALUES, TABLE). Comments, string literals, quoted
 * identifiers and dollar-quoted strings are skipped, so a `;` or a keyword inside them
 * counts for nothing. PostgreSQL itself refuses the same things again further on (a second
 * statement in a prepared statement, anything but a query in a cursor, writes in a read-only
 * transaction); this check answers first, with a clear message.
 *
 * @module
 */

/** The keywords a query for the SQL page may start with. */
export const READ_KEYWORDS = ["select", "with", "values", "table"] as const;

/** The text's code, with comments and quoted parts blanked (same length, same offsets). */
export function blankQuotedParts(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    let end = -1;
    if (c === "-" && next === "-") {
      end = sql.indexOf("\n", i);
      if (end < 0) end = sql.length;
    } else if (c === "/" && next === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql[j] === "/" && sql[j + 1] === "*") depth++, j++;
        else if (sql[j] === "*" && sql[j + 1] === "/") depth--, j++;
        j++;
      }
      end = j;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      const backslashes = c === "'" && /[eE]$/.test(sql.slice(0, i));
      while (j < sql.length) {
        if (backslashes && sql[j] === "\\") j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      end = j + 1;
    } else if (c === "$") {
      const tag = sql.slice(i).match(/^\$([A-Za-z_][A-Za-z_0-9]*)?\$/);
      if (tag && !/[A-Za-z_0-9]$/.test(sql.slice(0, i))) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? sql.length : close + tag[0].length;
      }
    }
    if (end < 0) {
      out += c;
      i++;
    } else {
      out += " ".repeat(Math.min(end, sql.length) - i);
      i = Math.min(end, sql.length);
    }
  }
  return out;
}

/** Why a query's text is refused, or null when it may go on. */
export interface TextRefusal {
  /** `empty_query`, `one_statement_only` or `read_only`. */
  code: "empty_query" | "one_statement_only" | "read_only";
  /** What was wrong and what to do. */
  message: string;
  /** 1-based character position of the offending part, as PostgreSQL counts. */
  position?: number;
}

/**
 * Checks a query's text: not empty, one statement (a trailing `;` is allowed and removed),
 * starting with a read keyword.
 *
 * @param sql The query as typed.
 * @returns The statement to run (without its trailing `;`), or why it is refused.
 */
export function checkQueryText(sql: string): { statement: string } | TextRefusal {
  const code = blankQuotedParts(sql);
  const trimmedEnd = code.replace(/[\s;]+$/, "");
  if (trimmedEnd.trim() === "") {
    return { code: "empty_query", message: "the query is empty: type a SELECT" };
  }
  const semicolon = trimmedEnd.indexOf(";");
  if (semicolon >= 0) {
    return {
      code: "one_statement_only",
      message: "only one statement runs at a time: remove everything after the first ';'",
      position: semicolon + 1,
    };
  }
  const first = trimmedEnd.match(/^[\s(]*([A-Za-z_]+)/);
  const keyword = first?.[1]?.toLowerCase() ?? "";
  if (!(READ_KEYWORDS as readonly string[]).includes(keyword)) {
    return {
      code: "read_only",
      message: `only queries that read run here (SELECT, WITH, VALUES, TABLE), not ${
        keyword ? keyword.toUpperCase() : "this"
      }`,
      position: (first ? first[0].length - first[1].length : 0) + 1,
    };
  }
  return { statement: sql.slice(0, trimmedEnd.length) };
}
