/** Red-flag explanations, taken at build time from docs/red-flags.md (its table: code, severity, fires when, why). */
import table from "../../docs/red-flags.md?raw";

export interface RedFlagDoc {
  code: string;
  severity: string;
  firesWhen: string;
  why: string;
}

function plain(cell: string): string {
  return cell.replace(/`/g, "").trim();
}

export const RED_FLAG_DOCS: Map<string, RedFlagDoc> = new Map(
  table
    .split("\n")
    .map((line) => line.match(/^\| `([a-z_]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => [m[1], { code: m[1], severity: plain(m[2]), firesWhen: plain(m[3]), why: plain(m[4]) }]),
);
