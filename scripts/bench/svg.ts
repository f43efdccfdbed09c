/**
 * The results as an SVG bar chart, written by hand (no dependency): one small panel per
 * charted metric, each with its own scale and one bar per column, the value printed at
 * the bar's end. A column without a figure shows "n/a" instead of a bar.
 *
 * @module
 */

import { type BenchResult, COLUMN_LABELS, type ColumnName, COLUMNS, formatValue, METRICS, quiet } from "./report.ts";

const WIDTH = 760;
const LABEL_WIDTH = 120;
const BAR_AREA = 540;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const PANEL_TITLE = 22;
const PANEL_GAP = 14;
const TOP = 56;

/** Bar colour per column. */
const COLOURS: Record<ColumnName, string> = {
  kernel: "#8c8c8c",
  tayga: "#4a7fb5",
  "gateway-no-offloads": "#f2c19d",
  gateway: "#e07b39",
};

/** `text` safe inside SVG text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ""}>${escapeXml(content)}</text>`;
}

/** "kernel IPv6 2 of 3, TAYGA 3 of 3" for the columns that ran. */
function quietLine(result: BenchResult): string {
  return COLUMNS.filter((c) => result.columns[c].rounds.length > 0)
    .map((c) =>
      `${COLUMN_LABELS[c]} ${result.columns[c].rounds.filter(quiet).length} of ${result.columns[c].rounds.length}`
    )
    .join(", ") || "none ran";
}

/** The chart of `result` as an SVG document. */
export function renderChart(result: BenchResult): string {
  const charted = METRICS.filter((m) => m.chart);
  const panelHeight = PANEL_TITLE + COLUMNS.length * (BAR_HEIGHT + BAR_GAP) + PANEL_GAP;
  const height = TOP + charted.length * panelHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(10, 22, `NAT64 bench ${result.date}${result.quick ? " (quick)" : ""}`, 'font-size="16" font-weight="bold"'),
    text(
      10,
      40,
      `${result.host.cpus} CPUs; best of each column's rounds; quiet rounds: ${quietLine(result)}`,
      'fill="#555555"',
    ),
  ];
  charted.forEach((m, i) => {
    const y0 = TOP + i * panelHeight;
    parts.push(text(10, y0 + 14, `${m.label}, ${m.better} is better`, 'font-weight="bold"'));
    const values = COLUMNS.map((c) => result.columns[c].metrics[m.key]);
    const max = Math.max(0, ...values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
    COLUMNS.forEach((c, j) => {
      const y = y0 + PANEL_TITLE + j * (BAR_HEIGHT + BAR_GAP);
      const baseline = y + BAR_HEIGHT - 4;
      parts.push(text(10, baseline, COLUMN_LABELS[c]));
      const v = values[j];
      if (v === undefined || !Number.isFinite(v)) {
        parts.push(text(LABEL_WIDTH, baseline, "n/a", 'fill="#999999"'));
        return;
      }
      const w = max > 0 ? Math.max(1, Math.round((v / max) * BAR_AREA)) : 1;
      parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}" fill="${COLOURS[c]}"/>`);
      parts.push(text(LABEL_WIDTH + w + 6, baseline, formatValue(v, m.digits)));
    });
  });
  parts.push("</svg>", "");
  return parts.join("\n");
}
