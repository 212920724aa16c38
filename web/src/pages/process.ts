/**
 * A procurement process: found by ocid, buyer, title or release id; its notices read from the
 * chain and verified here, on a time axis with the submission deadline and its moves, and the
 * red flags an auditor should look at, each linked to the notices it concerns.
 */
import type { Hex } from "viem";
import { h, clear, svg, timeEl } from "../dom";
import { t, formatDate } from "../i18n";
import { openLedger } from "../connection";
import { ocidHash, type AnchoredEvent } from "../chain/ledger";
import { batchManifest, processTimeline, searchProcesses, storedOriginal, type RedFlag } from "../api";
import { Verifier, type Verdict } from "../core/verdict";
import { decodeUtf8, isObject, parseStrictJson, type Json } from "../core/json";
import { releaseDigest, toHex } from "../core/jcs";
import { stageTag } from "../core/stages";
import { titleOf } from "../core/notices";
import { RED_FLAG_DOCS } from "../redflags";
import { chainPanel, explain } from "./chainpanel";
import { statusBadge } from "./verify";
import type { Page } from "../main";

interface Row {
  event: AnchoredEvent;
  anchoredAt: number;
  release: Json | null;
  date: number | null;
  verdict: Verdict | null;
  id: string;
}

function resolvePointer(document: Json, pointer: string): Json | undefined {
  let node: Json | undefined = document;
  for (const raw of pointer.split("/").slice(1)) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
  }
  return node;
}

/** The stored original of ``digest``, only when it hashes to that digest (else null). */
async function checkedOriginal(digest: Hex): Promise<Json | null> {
  try {
    const stored = await storedOriginal(digest);
    if (!stored) return null;
    const release = resolvePointer(parseStrictJson(decodeUtf8(new TextEncoder().encode(stored.source))), stored.pointer);
    if (release === undefined) return null;
    return "0x" + toHex(await releaseDigest(release)) === digest.toLowerCase() ? release : null;
  } catch {
    return null;
  }
}

export function renderProcess(main: HTMLElement, ocid: string): Page {
  const input = h("input", { id: "search", type: "search", value: ocid ? "" : "", autocomplete: "off" });
  const hits = h("div", { id: "hits", "aria-live": "polite" });
  const form = h(
    "form",
    {
      role: "search",
      class: "search",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void search(input.value);
      },
    },
    h("label", { for: "search" }, t("process.searchLabel")),
    h("div", { class: "row" }, input, h("button", { type: "submit" }, t("process.search"))),
  );
  let latest = 0;
  const search = async (query: string) => {
    const mine = ++latest;
    clear(hits);
    hits.textContent = t("process.searching");
    try {
      const found = await searchProcesses(query);
      if (mine !== latest) return; // an answer to an older search, arriving late
      clear(hits);
      if (!found.length) {
        hits.append(h("p", {}, t("process.noHits")));
        return;
      }
      hits.append(
        h(
          "ul",
          { class: "hits" },
          found.map((p) =>
            h(
              "li",
              {},
              h("a", { href: `#/process/${encodeURIComponent(p.ocid)}` }, p.ocid),
              " — ",
              p.title ?? "",
              p.buyer ? h("span", { class: "muted" }, ` (${p.buyer})`) : null,
              h("span", { class: "muted" }, ` · ${t("process.notices", { count: p.release_ids.length })}`),
            ),
          ),
        ),
      );
    } catch (error) {
      if (mine !== latest) return;
      clear(hits);
      hits.append(h("p", { class: "alert", role: "alert" }, explain(error)));
    }
  };
  const body = h("div", { id: "process" });
  main.append(h("h1", {}, t("process.title")), form, hits, body, chainPanel(() => ocid && void show(body, ocid)));
  if (ocid) void show(body, ocid);
  else void search("");
  return {};
}

async function show(body: HTMLElement, ocid: string): Promise<void> {
  clear(body);
  body.append(h("h2", { id: "process-title" }, ocid), h("p", { class: "muted" }, t("process.loading")));
  let rows: Row[] = [];
  let flags: RedFlag[] = [];
  let flagsProblem: string | null = null;
  let refused: { release_id: string; stage: string; error?: string }[] = [];
  try {
    const view = await openLedger();
    const events = (await view.noticeEvents(2, [ocidHash(ocid)])).sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    rows = await Promise.all(
      events.map(async (event, index) => {
        const release = await checkedOriginal(event.digest);
        const date = isObject(release) && typeof release.date === "string" ? Date.parse(release.date) / 1000 : NaN;
        return { event, anchoredAt: await view.blockTimestamp(event.blockNumber), release, date: Number.isFinite(date) ? date : null, verdict: null, id: `notice-${index}` };
      }),
    );
    const verifier = new Verifier({ view, manifests: batchManifest });
    const verdicts = await verifier.verify(
      rows.map((r) => ({
        file: r.event.fields.releaseId,
        ocid: r.event.fields.ocid,
        releaseId: r.event.fields.releaseId,
        stage: r.event.fields.stage,
        digest: r.event.digest,
        release: r.release,
        byDigest: false,
      })),
    );
    rows.forEach((r, i) => (r.verdict = verdicts[i]));
  } catch (error) {
    clear(body);
    body.append(h("h2", {}, ocid), h("p", { class: "alert", role: "alert" }, explain(error)));
    return;
  }
  try {
    const timeline = await processTimeline(ocid);
    flags = timeline?.red_flags ?? [];
    refused = (timeline?.timeline ?? []).filter((e) => e.status === "refused");
  } catch (error) {
    flagsProblem = explain(error);
  }
  clear(body);
  if (!rows.length) {
    body.append(h("h2", {}, ocid), h("p", {}, t("process.empty")));
    return;
  }
  const title = rows.map((r) => titleOf(r.release)).find(Boolean);
  body.append(h("h2", { id: "process-title" }, title ? `${title} — ${ocid}` : ocid));
  body.append(timelineChart(rows));
  body.append(timelineTable(rows, flags));
  if (refused.length) {
    body.append(
      h("h3", {}, t("process.refused")),
      h("ul", {}, refused.map((r) => h("li", {}, `${r.stage} ${r.release_id}: ${r.error ?? ""}`))),
    );
  }
  body.append(redFlagList(rows, flags, flagsProblem));
}

function deadlinesOf(rows: Row[]): { at: number; row: Row; moved: boolean }[] {
  const out: { at: number; row: Row; moved: boolean }[] = [];
  for (const row of rows) {
    const deadline = Number(row.event.fields.deadline);
    if (!deadline) continue;
    const last = out[out.length - 1];
    if (last && last.at === deadline) continue;
    out.push({ at: deadline, row, moved: out.length > 0 });
  }
  return out;
}

function timelineChart(rows: Row[]): HTMLElement {
  const deadlines = deadlinesOf(rows);
  const times = [...rows.flatMap((r) => [r.anchoredAt, r.date ?? r.anchoredAt]), ...deadlines.map((d) => d.at)];
  const min = Math.min(...times);
  const max = Math.max(...times);
  const span = max - min || 86400;
  const width = 900;
  const left = 170;
  const rowHeight = 28;
  const top = 30;
  const height = top + rows.length * rowHeight + 40;
  const x = (time: number) => left + ((time - min) / span) * (width - left - 20);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "timeline", role: "img", "aria-labelledby": "timeline-title timeline-desc" });
  chart.append(svg("title", { id: "timeline-title" }, t("process.chartTitle")), svg("desc", { id: "timeline-desc" }, t("process.chartDesc")));
  chart.append(svg("line", { x1: left, x2: width - 20, y1: height - 30, y2: height - 30, class: "axis" }));
  for (let i = 0; i <= 4; i++) {
    const at = min + (span * i) / 4;
    chart.append(svg("text", { x: x(at), y: height - 12, class: "tick", "text-anchor": i === 4 ? "end" : i === 0 ? "start" : "middle" }, formatDate(at)));
  }
  for (const d of deadlines) {
    chart.append(
      svg("line", { x1: x(d.at), x2: x(d.at), y1: top - 10, y2: height - 30, class: d.moved ? "deadline moved" : "deadline" }),
      // Labels near the right edge end at their line, so they are never cut off.
      svg(
        "text",
        { x: x(d.at) + (x(d.at) > width * 0.7 ? -4 : 4), y: top - 14, class: "deadline-label", "text-anchor": x(d.at) > width * 0.7 ? "end" : "start" },
        d.moved ? t("process.deadlineMoved") : t("process.deadline"),
      ),
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight + rowHeight / 2;
    chart.append(svg("text", { x: 4, y: y + 4, class: "row-label" }, stageTag(row.event.fields.stage)));
    if (row.date !== null) {
      chart.append(svg("line", { x1: x(row.date), x2: x(row.anchoredAt), y1: y, y2: y, class: "gap" }));
      chart.append(svg("circle", { cx: x(row.date), cy: y, r: 5, class: "dated" }, svg("title", {}, t("process.dated"))));
    }
    chart.append(svg("rect", { x: x(row.anchoredAt) - 5, y: y - 5, width: 10, height: 10, class: `anchored status-${row.verdict?.status}` }, svg("title", {}, t("process.anchoredAt"))));
  });
  const legend = h(
    "p",
    { class: "legend" },
    h("span", { class: "key dated" }, "●"),
    ` ${t("process.dated")}  `,
    h("span", { class: "key anchored" }, "■"),
    ` ${t("process.anchoredAt")}  `,
    h("span", { class: "key deadline" }, "┆"),
    ` ${t("process.deadline")}`,
  );
  return h("figure", { class: "chart" }, chart, h("figcaption", {}, legend));
}

function timelineTable(rows: Row[], flags: RedFlag[]): HTMLElement {
  return h(
    "table",
    { class: "timeline-table", id: "timeline" },
    h("caption", {}, t("process.tableCaption")),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["field.stage", "field.releaseId", "field.date", "field.anchoredAt", "field.deadline", "field.verdict", "field.redFlags"].map((k) =>
          h("th", { scope: "col" }, t(k)),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) => {
        const own = flags.filter((f) => f.release_id === row.event.fields.releaseId);
        return h(
          "tr",
          { id: row.id, tabindex: -1, "data-release-id": row.event.fields.releaseId },
          h("td", {}, stageTag(row.event.fields.stage)),
          h("td", {}, h("code", {}, row.event.fields.releaseId)),
          h("td", {}, row.date !== null ? timeEl(row.date) : t("process.unknownDate")),
          h("td", {}, timeEl(row.anchoredAt), h("br"), h("span", { class: "muted" }, t("process.block", { block: row.event.blockNumber }))),
          h("td", {}, Number(row.event.fields.deadline) ? timeEl(Number(row.event.fields.deadline)) : "—"),
          h("td", {}, row.verdict ? statusBadge(row.verdict.status) : "—", row.verdict?.supersededBy.length ? h("span", { class: "muted" }, ` ${row.verdict.supersededBy.join(", ")}`) : null),
          h("td", {}, own.map((f) => h("span", { class: `badge severity-${f.severity}` }, t(`flag.${f.code}`)))),
        );
      }),
    ),
  );
}

function redFlagList(rows: Row[], flags: RedFlag[], problem: string | null): HTMLElement {
  const section = h("section", { class: "flags", id: "red-flags", "aria-labelledby": "flags-title" }, h("h3", { id: "flags-title" }, t("process.redFlags")));
  section.append(h("p", { class: "muted" }, t("process.flagsFromServer")));
  if (problem) {
    section.append(h("p", { class: "alert", role: "alert" }, problem));
    return section;
  }
  if (!flags.length) {
    section.append(h("p", {}, t("process.noFlags")));
    return section;
  }
  section.append(
    h(
      "ul",
      {},
      flags.map((flag) => {
        const doc = RED_FLAG_DOCS.get(flag.code);
        const target = rows.find((r) => r.event.fields.releaseId === flag.release_id);
        return h(
          "li",
          { class: "flag", "data-code": flag.code },
          h("span", { class: `badge severity-${flag.severity}` }, t(`severity.${flag.severity}`)),
          " ",
          h("strong", {}, t(`flag.${flag.code}`)),
          " — ",
          flag.message,
          doc ? h("p", { class: "why" }, h("span", { class: "muted" }, t("process.why")), " ", doc.why) : null,
          target
            ? h(
                "a",
                {
                  href: `#/process/${encodeURIComponent(target.event.fields.ocid)}`,
                  onclick: (event: Event) => {
                    event.preventDefault();
                    const row = document.getElementById(target.id);
                    row?.scrollIntoView({ block: "center" });
                    row?.focus();
                  },
                },
                t("process.goToNotice", { id: flag.release_id }),
              )
            : h("span", { class: "muted" }, flag.release_id),
        );
      }),
    ),
  );
  return section;
}
