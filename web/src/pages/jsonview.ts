/** A release as indented JSON, one line per value, the lines of changed fields highlighted. */
import { h } from "../dom";
import type { Json } from "../core/json";
import { t } from "../i18n";

function esc(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function renderJsonSide(value: Json, changed: string[], side: string): HTMLElement {
  const marked = new Set(changed);
  const isMarked = (pointer: string) => marked.has(pointer) || changed.some((c) => pointer.startsWith(c + "/"));
  const lines: HTMLElement[] = [];
  const line = (indent: number, text: string, pointer: string | null) => {
    const hit = pointer !== null && isMarked(pointer);
    const content = "  ".repeat(indent) + text;
    lines.push(
      hit
        ? h("span", { class: "line changed", "data-pointer": pointer }, h("mark", {}, content), h("span", { class: "visually-hidden" }, ` (${t("diff.changedMark")})`))
        : h("span", { class: "line" }, content),
    );
  };
  const walk = (node: Json, indent: number, prefix: string, pointer: string, comma: string) => {
    if (Array.isArray(node)) {
      if (!node.length) return line(indent, `${prefix}[]${comma}`, pointer);
      line(indent, `${prefix}[`, null);
      node.forEach((item, i) => walk(item, indent + 1, "", `${pointer}/${i}`, i < node.length - 1 ? "," : ""));
      line(indent, `]${comma}`, null);
    } else if (node !== null && typeof node === "object") {
      const keys = Object.keys(node);
      if (!keys.length) return line(indent, `${prefix}{}${comma}`, pointer);
      line(indent, `${prefix}{`, null);
      keys.forEach((key, i) => walk(node[key], indent + 1, `${JSON.stringify(key)}: `, `${pointer}/${esc(key)}`, i < keys.length - 1 ? "," : ""));
      line(indent, `}${comma}`, null);
    } else {
      line(indent, `${prefix}${JSON.stringify(node)}${comma}`, pointer);
    }
  };
  walk(value, 0, "", "", "");
  return h("pre", { class: "json", tabindex: 0, "aria-label": t(`diff.${side}`), "data-side": side }, lines.map((l) => [l, "\n"]));
}
