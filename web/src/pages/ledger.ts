/** The ledger: agencies and their seal keys with validity windows, recent anchors (live), anchors per day. */
import { h, clear, svg, timeEl, shortHex } from "../dom";
import { t, formatDay, formatNumber } from "../i18n";
import { openLedger } from "../connection";
import type { AnchoredEvent, LedgerView } from "../chain/ledger";
import { stageTag } from "../core/stages";
import { chainPanel, explain } from "./chainpanel";
import type { Page } from "../main";

const REFRESH_MS = 4000;
const RECENT = 15;

export function renderLedger(main: HTMLElement): Page {
  const agencies = h("section", { class: "panel", id: "agencies", "aria-labelledby": "agencies-title" });
  const recent = h("section", { class: "panel", id: "recent", "aria-labelledby": "recent-title" });
  const perDay = h("section", { class: "panel", id: "per-day", "aria-labelledby": "per-day-title" });
  const alertBox = h("p", { class: "alert", role: "alert", hidden: true });
  main.append(h("h1", {}, t("ledger.title")), alertBox, agencies, recent, perDay, chainPanel(() => void refresh(true)));
  const seen = new Set<string>();
  let stopped = false;
  let timer: number | undefined;

  const refresh = async (full: boolean) => {
    let view: LedgerView;
    try {
      view = await openLedger();
      alertBox.hidden = true;
    } catch (error) {
      alertBox.hidden = false;
      alertBox.textContent = explain(error);
      return;
    }
    try {
      const events = await view.allNoticeEvents();
      if (full) await renderAgencies(agencies, view);
      await renderRecent(recent, view, events, seen);
      await renderPerDay(perDay, view, events);
    } catch (error) {
      alertBox.hidden = false;
      alertBox.textContent = explain(error);
    }
  };
  const loop = async () => {
    await refresh(false);
    if (!stopped) timer = window.setTimeout(() => void loop(), REFRESH_MS);
  };
  void refresh(true).then(() => {
    if (!stopped) timer = window.setTimeout(() => void loop(), REFRESH_MS);
  });
  return {
    leave: () => {
      stopped = true;
      window.clearTimeout(timer);
    },
  };
}

async function renderAgencies(section: HTMLElement, view: LedgerView): Promise<void> {
  const [names, tenures, reservations] = await Promise.all([view.agencyNames(), view.tenures(), view.reservations()]);
  clear(section);
  section.append(h("h2", { id: "agencies-title" }, t("ledger.agencies")));
  const rows: HTMLElement[] = [];
  for (const [id, name] of [...names.entries()].sort((a, b) => a[0] - b[0])) {
    const keys = [...tenures.values()].filter((k) => k.agency === id);
    const prefixes = [...reservations.values()].filter((r) => r.agency === id).map((r) => r.prefix);
    const keyCells = await Promise.all(
      keys.map(async (k) =>
        h(
          "li",
          {},
          h("code", { title: k.key }, k.key),
          " ",
          t("ledger.validFrom", { block: k.added[0] }),
          " (",
          timeEl(await view.blockTimestamp(k.added[0])),
          ")",
          k.revoked ? [" ", t("ledger.revokedAt", { block: k.revoked[0] }), " (", timeEl(await view.blockTimestamp(k.revoked[0])), ")"] : [" ", h("span", { class: "badge status-anchored" }, t("ledger.active"))],
        ),
      ),
    );
    rows.push(
      h(
        "tr",
        {},
        h("td", {}, String(id)),
        h("th", { scope: "row" }, name),
        h("td", {}, h("ul", { class: "plain" }, keyCells)),
        h("td", {}, prefixes.length ? prefixes.join(", ") : "—"),
      ),
    );
  }
  section.append(
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, t("ledger.agencies")),
      h("thead", {}, h("tr", {}, ["ledger.id", "ledger.name", "ledger.keys", "ledger.prefixes"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows),
    ),
  );
}

async function renderRecent(section: HTMLElement, view: LedgerView, events: AnchoredEvent[], seen: Set<string>): Promise<void> {
  const names = await view.agencyNames();
  const latest = [...events].sort((a, b) => b.blockNumber - a.blockNumber || b.logIndex - a.logIndex).slice(0, RECENT);
  const first = seen.size === 0;
  clear(section);
  section.append(
    h("h2", { id: "recent-title" }, t("ledger.recent")),
    h("p", { class: "muted" }, t("ledger.live", { block: String(view.head), seconds: REFRESH_MS / 1000 })),
  );
  const rows = await Promise.all(
    latest.map(async (e) => {
      const id = `${e.txHash}:${e.logIndex}`;
      const fresh = !first && !seen.has(id);
      seen.add(id);
      return h(
        "tr",
        { class: fresh ? "fresh" : "" },
        h("td", {}, String(e.blockNumber)),
        h("td", {}, timeEl(await view.blockTimestamp(e.blockNumber))),
        h("td", {}, names.get(e.agency) ?? String(e.agency)),
        h("td", {}, stageTag(e.fields.stage)),
        h("td", {}, h("a", { href: `#/process/${encodeURIComponent(e.fields.ocid)}` }, e.fields.ocid), " / ", e.fields.releaseId),
        h("td", {}, h("code", { title: e.txHash }, shortHex(e.txHash, 12))),
      );
    }),
  );
  section.append(
    h(
      "table",
      { id: "recent-table" },
      h("caption", { class: "visually-hidden" }, t("ledger.recent")),
      h("thead", {}, h("tr", {}, ["field.block", "field.time", "field.agency", "field.stage", "field.notice", "field.tx"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows),
    ),
  );
}

/** The viewer's local calendar day of a unix time, as a sortable key and its midnight. */
function localDay(unixSeconds: number): { key: string; midnight: number } {
  const date = new Date(unixSeconds * 1000);
  const midnight = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const key = `${midnight.getFullYear()}-${String(midnight.getMonth() + 1).padStart(2, "0")}-${String(midnight.getDate()).padStart(2, "0")}`;
  return { key, midnight: midnight.getTime() / 1000 };
}

async function renderPerDay(section: HTMLElement, view: LedgerView, events: AnchoredEvent[]): Promise<void> {
  const counts = new Map<string, { midnight: number; n: number }>();
  const add = (time: number, n: number) => {
    const { key, midnight } = localDay(time);
    counts.set(key, { midnight, n: (counts.get(key)?.n ?? 0) + n });
  };
  for (const e of events) add(await view.blockTimestamp(e.blockNumber), 1);
  for (const b of await view.batchEvents()) add(await view.blockTimestamp(b.blockNumber), b.size);
  const days = [...counts.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .slice(-30)
    .map(([, v]) => [v.midnight, v.n] as [number, number]);
  clear(section);
  section.append(h("h2", { id: "per-day-title" }, t("ledger.perDay")));
  if (!days.length) {
    section.append(h("p", {}, t("ledger.none")));
    return;
  }
  const max = Math.max(...days.map((d) => d[1]));
  const width = 640;
  const height = 200;
  const bar = Math.min(60, (width - 40) / days.length);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 30}`, class: "bars", role: "img", "aria-labelledby": "per-day-title" });
  days.forEach(([day, n], i) => {
    const barHeight = (n / max) * (height - 20);
    const x = 30 + i * bar;
    chart.append(
      svg("rect", { x: x + 4, y: height - barHeight, width: bar - 8, height: barHeight, class: "bar" }, svg("title", {}, `${formatDay(day)}: ${n}`)),
      svg("text", { x: x + bar / 2, y: height - barHeight - 4, "text-anchor": "middle", class: "bar-value" }, formatNumber(n)),
      svg("text", { x: x + bar / 2, y: height + 16, "text-anchor": "middle", class: "tick" }, formatDay(day)),
    );
  });
  section.append(
    chart,
    h(
      "table",
      { class: "compact", id: "per-day-table", "data-total": String(days.reduce((sum, [, n]) => sum + n, 0)) },
      h("caption", {}, t("ledger.perDayTable")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("ledger.day")), h("th", { scope: "col" }, t("ledger.count")))),
      h("tbody", {}, days.map(([day, n]) => h("tr", {}, h("td", {}, formatDay(day)), h("td", {}, formatNumber(n))))),
    ),
  );
}
