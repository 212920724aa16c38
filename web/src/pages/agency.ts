/**
 * The agency's console (bearer token): submit notices by drag and drop, follow the outbox
 * (pending, anchored, refused with the ledger's reason and advice), download receipts, and see
 * the red flags of the agency's processes before an auditor does.
 */
import { h, clear, append } from "../dom";
import { t } from "../i18n";
import { agencyOutbox, noticeState, processTimeline, submitNotice, ServerError, type OutboxItem } from "../api";
import { RED_FLAG_DOCS } from "../redflags";
import { explain } from "./chainpanel";
import { statusBadge } from "./verify";
import type { Page } from "../main";

const TOKEN_KEY = "tenderledger.agencyToken";
const POLL_MS = 1500;

export function renderAgency(main: HTMLElement): Page {
  const state = { stopped: false, timer: 0 };
  const tokenInput = h("input", { id: "token", type: "password", autocomplete: "off", value: sessionStorage.getItem(TOKEN_KEY) ?? "" });
  const console_ = h("div", { id: "console" });
  const form = h(
    "form",
    {
      class: "panel token",
      onsubmit: (event: Event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
        void open();
      },
    },
    h("label", { for: "token" }, t("agency.token")),
    h("div", { class: "row" }, tokenInput, h("button", { type: "submit" }, t("agency.signIn"))),
    h("p", { class: "help" }, t("agency.tokenHelp")),
  );
  main.append(h("h1", {}, t("agency.title")), form, console_);

  const open = async () => {
    window.clearTimeout(state.timer);
    clear(console_);
    const token = sessionStorage.getItem(TOKEN_KEY) ?? "";
    if (!token) return;
    try {
      const outbox = await agencyOutbox(token);
      renderConsole(console_, token, outbox.agency, state);
    } catch (error) {
      console_.append(h("p", { class: "alert", role: "alert" }, error instanceof ServerError && error.status === 401 ? t("agency.badToken") : explain(error)));
    }
  };
  void open();
  return {
    leave: () => {
      state.stopped = true;
      window.clearTimeout(state.timer);
    },
  };
}

function renderConsole(root: HTMLElement, token: string, agency: string, state: { stopped: boolean; timer: number }): void {
  const outboxSection = h("section", { class: "panel", id: "outbox", "aria-labelledby": "outbox-title" });
  const flagsSection = h("section", { class: "panel", id: "agency-flags", "aria-labelledby": "agency-flags-title" });
  const submitted = h("ul", { id: "submitted", "aria-live": "polite" });
  const fileInput = h("input", { type: "file", id: "submit-files", multiple: true, accept: ".json,application/json", class: "visually-hidden", tabindex: -1 });
  const submitAll = async (files: File[]) => {
    for (const file of files) {
      const item = h("li", {}, `${file.name}: ${t("agency.sending")}`);
      submitted.append(item);
      try {
        const outcome = await submitNotice(token, new Uint8Array(await file.arrayBuffer()));
        clear(item);
        const notices = outcome.body.notices ?? [];
        append(item, [
          h("strong", {}, file.name),
          ": ",
          notices.length
            ? notices.map((n) => [statusBadge(n.outcome), " ", `${n.ocid} / ${n.release_id}`, " "])
            : outcome.body.detail ?? String(outcome.status),
        ]);
        const error = outcome.body.contract_error;
        if (error) item.append(h("p", { class: "refusal" }, `${error.name}: ${error.advice ?? ""}`));
        else if (outcome.status >= 400 && outcome.body.advice) item.append(h("p", { class: "refusal" }, outcome.body.advice));
      } catch (error) {
        item.textContent = `${file.name}: ${explain(error)}`;
      }
      void refresh();
    }
  };
  fileInput.addEventListener("change", () => {
    const files = Array.from(fileInput.files ?? []);
    fileInput.value = "";
    void submitAll(files);
  });
  const chooser = h("label", { for: "submit-files", class: "button", tabindex: 0, role: "button" }, t("agency.choose"));
  chooser.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      fileInput.click();
    }
  });
  const drop = h("div", { class: "drop", id: "agency-drop" }, h("p", { class: "drop-title" }, t("agency.dropHere")), chooser, fileInput);
  drop.addEventListener("dragover", (event) => (event.preventDefault(), drop.classList.add("over")));
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    void submitAll(Array.from(event.dataTransfer?.files ?? []));
  });
  root.append(
    h("p", { class: "signed-in" }, t("agency.signedIn", { agency })),
    h("section", { class: "panel", "aria-labelledby": "submit-title" }, h("h2", { id: "submit-title" }, t("agency.submit")), drop, submitted),
    outboxSection,
    flagsSection,
  );
  const details = new Map<string, Awaited<ReturnType<typeof noticeState>>>();
  let shownOcids = "";
  const refresh = async () => {
    window.clearTimeout(state.timer);
    let outbox: { items: OutboxItem[]; ocids: string[] };
    try {
      outbox = await agencyOutbox(token);
    } catch (error) {
      clear(outboxSection);
      outboxSection.append(h("h2", { id: "outbox-title" }, t("agency.outbox")), h("p", { class: "alert", role: "alert" }, explain(error)));
      return;
    }
    for (const item of outbox.items) {
      const known = details.get(item.digest);
      if (!known || known.status !== item.status) {
        try {
          details.set(item.digest, await noticeState(item.digest));
        } catch {
          /* shown from the outbox row alone */
        }
      }
    }
    renderOutbox(outboxSection, outbox.items, details);
    if (outbox.ocids.join() !== shownOcids) {
      shownOcids = outbox.ocids.join();
      void renderFlags(flagsSection, outbox.ocids);
    }
    const pending = outbox.items.some((i) => i.status === "pending");
    if (!state.stopped && pending) state.timer = window.setTimeout(() => void refresh(), POLL_MS);
  };
  void refresh();
}

function renderOutbox(section: HTMLElement, items: OutboxItem[], details: Map<string, Awaited<ReturnType<typeof noticeState>>>): void {
  clear(section);
  section.append(h("h2", { id: "outbox-title" }, t("agency.outbox")));
  if (!items.length) {
    section.append(h("p", {}, t("agency.emptyOutbox")));
    return;
  }
  section.append(
    h(
      "table",
      { id: "outbox-table" },
      h("caption", { class: "visually-hidden" }, t("agency.outbox")),
      h("thead", {}, h("tr", {}, ["field.notice", "field.status", "agency.reason", "agency.receipt"].map((k) => h("th", { scope: "col" }, t(k))))),
      h(
        "tbody",
        {},
        [...items].reverse().map((item) => {
          const detail = details.get(item.digest);
          const error = detail?.contract_error;
          return h(
            "tr",
            { "data-release-id": item.release_id, "data-status": item.status },
            h("td", {}, `${item.ocid} / ${item.release_id}`),
            h("td", {}, statusBadge(item.status)),
            h("td", {}, error ? [h("strong", {}, error.name), h("br"), error.advice ?? error.message ?? ""] : item.error_name ?? ""),
            h(
              "td",
              {},
              detail?.receipt
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "secondary",
                      onclick: () => download(`receipt-${item.release_id}.json`, detail.receipt),
                      "aria-label": t("agency.downloadFor", { id: item.release_id }),
                    },
                    t("agency.download"),
                  )
                : "—",
            ),
          );
        }),
      ),
    ),
  );
}

function download(name: string, data: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" }));
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

async function renderFlags(section: HTMLElement, ocids: string[]): Promise<void> {
  clear(section);
  section.append(h("h2", { id: "agency-flags-title" }, t("agency.processes")));
  const list = h("ul", { class: "processes" });
  section.append(list);
  for (const ocid of ocids) {
    const item = h("li", {}, h("a", { href: `#/process/${encodeURIComponent(ocid)}` }, ocid));
    list.append(item);
    try {
      const timeline = await processTimeline(ocid);
      const flags = timeline?.red_flags ?? [];
      item.append(
        flags.length
          ? h(
              "ul",
              {},
              flags.map((f) =>
                h("li", {}, h("span", { class: `badge severity-${f.severity}` }, t(`severity.${f.severity}`)), " ", h("strong", {}, t(`flag.${f.code}`)), ` — ${f.message}`, RED_FLAG_DOCS.get(f.code) ? h("p", { class: "why" }, RED_FLAG_DOCS.get(f.code)!.why) : null),
              ),
            )
          : h("span", { class: "muted" }, ` — ${t("process.noFlags")}`),
      );
    } catch (error) {
      item.append(h("p", { class: "alert" }, explain(error)));
    }
  }
}
