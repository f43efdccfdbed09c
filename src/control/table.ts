/**
 * Plain-text tables for the terminal: columns padded to their widest cell, numbers
 * right-aligned, two spaces between columns.
 *
 * @module
 */

/** How a column's cells line up. */
export type Align = "left" | "right";

/** One column: its heading and alignment. */
export interface Column {
  /** The heading ("" for none). */
  title: string;
  /** Left for names, right for numbers. */
  align: Align;
}

/** Lays out `rows` under `columns`; returns the lines, heading first, without trailing spaces. */
export function renderTable(columns: readonly Column[], rows: readonly string[][], indent = ""): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    indent + columns.map((c, i) => {
      const cell = cells[i] ?? "";
      return c.align === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
    }).join("  ").trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}
