/**
 * The auditor's page: drop files, a folder or pasted JSON; every notice gets its verdict,
 * computed here in the browser against the chain.
 */
import { h, clear, append, timeEl, shortHex } from "../dom";
import { t, formatNumber } from "../i18n";
import { readFile, type NoticeFacts } from "../core/notices";
import { Verifier, blankVerdict, changedPointers, type Verdict, PASSING } from "../core/verdict";
import { batchManifest, sampleBytes, sampleFiles, storedOriginal } from "../api";
import { openLedger } from "../connection";
import { decodeUtf8, isObject, parseStrictJson, type Json } from "../core/json";
import { releaseDigest, toHex } from "../core/jcs";
import { chainPanel, explain } from "./chainpanel";
import { renderJsonSide } from "./jsonview";

interface Dropped {
  name: string;
  read: () => Promise<Uint8Array>;
}

function fromFile(file: File, name = file.webkitRelativePath || file.name): Dropped {
  return { name, read: async () => new Uint8Array(await file.arrayBuffer()) };
}

const STATUS_ORDER = ["tampered", "invalid_seal", "conflict", "unknown", "not_anchored", "superseded", "anchored"];

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `badge status-${status}` }, t(`status.${status}`));
}

/** Files from a drop, folders walked recursively. */
async function filesOfDrop(items: DataTransferItemList): Promise<File[]> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      files.push(new File([file], path + file.name, { type: file.type }));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, "");
  return files;
}

export function renderVerify(main: HTMLElement): void {
  const results = h("section", { class: "results", id: "results", "aria-labelledby": "results-title", "aria-live": "polite" });
  const progress = h("progress", { id: "progress", max: 1, value: 0, "aria-labelledby": "progress-label" });
  const progressLabel = h("span", { id: "progress-label" }, "");
  const progressBox = h("div", { class: "progress", hidden: true }, progressLabel, progress);
  const alertBox = h("div", { id: "chain-alert", role: "alert", class: "alert", hidden: true });

  const run = async (dropped: Dropped[]) => {
    delete results.dataset.done;
    clear(results);
    alertBox.hidden = true;
    alertBox.textContent = "";
    progressBox.hidden = false;
    const started = performance.now();
    const total = dropped.length;
    progress.max = total * 2;
    progress.value = 0;
    progressLabel.textContent = t("verify.reading", { done: 0, total });
    const problems: { file: string; message: string }[] = [];
    const notices: NoticeFacts[] = [];
    for (const [index, file] of dropped.entries()) {
      let bytes: Uint8Array;
      try {
        bytes = await file.read();
      } catch (error) {
        problems.push({ file: file.name, message: t("problem.unreadable", { detail: explain(error) }) });
        continue;
      }
      const read = await readFile(file.name, bytes);
      if (read.problem) {
        problems.push({ file: file.name, message: t(read.problem.code, { detail: read.problem.detail ?? "" }) });
      }
      for (const skipped of read.skipped) problems.push({ file: skipped.file, message: t(skipped.code, { detail: skipped.detail ?? "" }) });
      notices.push(...read.notices);
      if (index % 25 === 0 || index === total - 1) {
        progress.value = index + 1;
        progressLabel.textContent = t("verify.reading", { done: index + 1, total });
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    const readDone = performance.now();
    let verdicts: Verdict[] = [];
    let chainProblem: string | null = null;
    if (notices.length) {
      progress.max = total + notices.length;
      progress.value = total;
      progressLabel.textContent = t("verify.checking", { done: 0, total: notices.length });
      try {
        const view = await openLedger();
        const verifier = new Verifier({ view, manifests: batchManifest });
        verdicts = await verifier.verify(notices, (done) => {
          progress.value = total + done;
          progressLabel.textContent = t("verify.checking", { done, total: notices.length });
        });
      } catch (error) {
        chainProblem = explain(error);
        verdicts = notices.map((n) => unchecked(n, chainProblem!));
      }
    }
    progress.value = progress.max;
    if (chainProblem) {
      alertBox.hidden = false;
      alertBox.textContent = chainProblem;
    }
    const chainDone = performance.now();
    renderResults(results, verdicts, problems);
    // Where the time went, for benchmarks/bench_workbench.py.
    main.dataset.phases = JSON.stringify({
      read_s: (readDone - started) / 1000,
      chain_s: (chainDone - readDone) / 1000,
      render_s: (performance.now() - chainDone) / 1000,
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    progressLabel.textContent = t("verify.done", { count: verdicts.length, seconds });
    main.dataset.lastRunSeconds = seconds;
    results.dataset.done = "true";
  };

  const fileInput = h("input", { type: "file", id: "files", multiple: true, class: "visually-hidden", tabindex: -1 });
  const folderInput = h("input", { type: "file", id: "folder", multiple: true, webkitdirectory: true, class: "visually-hidden", tabindex: -1 });
  const fromInput = async (input: HTMLInputElement) => {
    const files = Array.from(input.files ?? []);
    input.value = "";
    await run(files.map((f) => fromFile(f)));
  };
  fileInput.addEventListener("change", () => void fromInput(fileInput));
  folderInput.addEventListener("change", () => void fromInput(folderInput));

  const drop = h(
    "div",
    { class: "drop", id: "drop" },
    h("p", { class: "drop-title" }, t("verify.dropHere")),
    h(
      "div",
      { class: "buttons" },
      h("label", { for: "files", class: "button" }, t("verify.chooseFiles")),
      h("label", { for: "folder", class: "button secondary" }, t("verify.chooseFolder")),
    ),
    fileInput,
    folderInput,
  );
  // Labels of hidden inputs are not focusable: make them act as buttons for the keyboard.
  for (const label of drop.querySelectorAll("label.button")) {
    label.setAttribute("tabindex", "0");
    label.setAttribute("role", "button");
    label.addEventListener("keydown", (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === "Enter" || key === " ") {
        event.preventDefault();
        (label as HTMLLabelElement).control?.click();
      }
    });
  }
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const items = event.dataTransfer?.items;
    if (!items) return;
    void filesOfDrop(items).then((files) => run(files.map((f) => fromFile(f, f.name))));
  });

  const paste = h("textarea", { id: "paste", rows: 5, spellcheck: "false" });
  const pasteForm = h(
    "form",
    {
      class: "paste",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const bytes = new TextEncoder().encode(paste.value);
        void run([{ name: "pasted.json", read: async () => bytes }]);
      },
    },
    h("label", { for: "paste" }, t("verify.pasteLabel")),
    paste,
    h("button", { type: "submit" }, t("verify.pasteButton")),
  );

  const samples = h("section", { class: "panel samples", id: "samples", "aria-labelledby": "samples-title", hidden: true });
  void sampleFiles().then((names) => {
    if (!names.length) return;
    samples.hidden = false;
    samples.append(
      h("h2", { id: "samples-title" }, t("verify.samplesTitle")),
      h("p", {}, t("verify.samplesIntro")),
      h("ul", { class: "plain" }, names.map((name) => h("li", {}, h("code", {}, name)))),
      h(
        "button",
        {
          type: "button",
          id: "verify-samples",
          onclick: () => void run(names.map((name) => ({ name, read: () => sampleBytes(name) }))),
        },
        t("verify.samplesButton", { count: names.length }),
      ),
    );
  });

  main.append(
    h("h1", {}, t("verify.title")),
    h("p", { class: "lead", id: "unique" }, t("verify.unique")),
    h("p", {}, t("verify.intro")),
    samples,
    h("section", { class: "panel", "aria-labelledby": "input-title" }, h("h2", { id: "input-title" }, t("verify.inputTitle")), drop, pasteForm),
    progressBox,
    alertBox,
    results,
    chainPanel(() => undefined),
  );
}

function unchecked(notice: NoticeFacts, reason: string): Verdict {
  return blankVerdict(notice, "unknown", "", [{ key: "note.notChecked", params: { reason } }]);
}

function noteText(note: { key: string; params?: Record<string, string | number> }): string {
  return t(note.key, note.params ?? {});
}

function renderResults(section: HTMLElement, verdicts: Verdict[], problems: { file: string; message: string }[]): void {
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
  const passed = verdicts.length > 0 && verdicts.every((v) => PASSING.includes(v.status));
  section.append(
    h("h2", { id: "results-title" }, t("verify.results")),
    h(
      "p",
      { class: passed ? "summary pass" : "summary fail", id: "summary" },
      t("verify.summary", { count: formatNumber(verdicts.length) }),
      " ",
      STATUS_ORDER.filter((s) => counts.has(s)).map((s) => h("span", { class: "count" }, statusBadge(s), " ", formatNumber(counts.get(s)!))),
    ),
  );
  if (problems.length) {
    section.append(
      h("h3", {}, t("verify.problems")),
      h("ul", { class: "problems", id: "problems" }, problems.map((p) => h("li", {}, h("strong", {}, p.file), ": ", p.message))),
    );
  }
  if (!verdicts.length) return;
  const sorted = [...verdicts].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
  const list = h("ol", { class: "verdicts", id: "verdicts" });
  const tampered = sorted.filter((v) => v.status === "tampered");
  for (const verdict of sorted) {
    list.append(verdictItem(verdict, tampered.length <= 5));
  }
  section.append(list);
}

function field(label: string, value: Node | string): HTMLElement[] {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function verdictItem(v: Verdict, openDiff: boolean): HTMLElement {
  const item = h("li", { class: `verdict status-${v.status}`, "data-status": v.status, "data-file": v.file, "data-release-id": v.releaseId });
  append(item, [
    h("div", { class: "verdict-head" }, statusBadge(v.status), " ", h("span", { class: "file" }, v.file), " ", h("span", { class: "stage" }, v.stage)),
    h(
      "dl",
      { class: "facts" },
      field(t("field.notice"), `${v.ocid || "—"} / ${v.releaseId}`),
      v.agencyId !== null ? field(t("field.agency"), h("span", { "data-field": "agency" }, v.agency ?? String(v.agencyId))) : null,
      v.signer ? field(t("field.signer"), h("code", { title: v.signer }, v.signer)) : null,
      v.blockNumber !== null ? field(t("field.block"), h("span", { "data-field": "block" }, String(v.blockNumber))) : null,
      v.blockTimestamp !== null ? field(t("field.time"), timeEl(v.blockTimestamp)) : null,
      v.txHash ? field(t("field.tx"), h("code", { title: v.txHash }, shortHex(v.txHash, 18))) : null,
      v.batchRoot ? field(t("field.batch"), h("code", { title: v.batchRoot, "data-field": "batch-root" }, shortHex(v.batchRoot, 18))) : null,
      field(t("field.digest"), h("code", { title: v.digest }, shortHex(v.digest, 18))),
      v.supersededBy.length ? field(t("field.supersededBy"), h("span", { "data-field": "superseded-by" }, v.supersededBy.join(", "))) : null,
    ),
    h("p", { class: "meaning" }, t(`meaning.${v.status}`)),
    v.notes.length ? h("ul", { class: "notes" }, v.notes.map((n) => h("li", {}, noteText(n)))) : null,
    evidenceLink(v),
  ]);
  if (v.status === "tampered" && v.anchoredDigest) {
    const region = h("div", { class: "diff", "aria-live": "polite" });
    const button = h("button", { type: "button", "aria-expanded": "false", class: "secondary" }, t("diff.show"));
    const load = async () => {
      button.setAttribute("aria-expanded", "true");
      button.hidden = true;
      region.textContent = t("diff.loading");
      await showDiff(region, v);
    };
    button.addEventListener("click", () => void load());
    item.append(button, region);
    if (openDiff) void load();
  }
  return item;
}

/** A package that proves the anchor offline (served by our server, checked by its own verifier). */
function evidenceLink(v: Verdict): HTMLElement | null {
  const [digest, key] = PASSING.includes(v.status)
    ? [v.digest, "verify.evidence"]
    : v.status === "tampered" && v.anchoredDigest
      ? [v.anchoredDigest, "verify.evidenceOriginal"]
      : [null, ""];
  if (!digest) return null;
  return h("p", { class: "evidence" }, h("a", { href: `/notices/${digest}/evidence`, download: "", "data-field": "evidence" }, t(key)));
}

function resolvePointer(document: Json, pointer: string): Json | undefined {
  if (!pointer) return document;
  let node: Json | undefined = document;
  for (const raw of pointer.replace(/^#/, "").split("/").slice(1)) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else return undefined;
  }
  return node;
}

/** Fetch the stored original, check it hashes to the anchored digest, then show both side by side. */
async function showDiff(region: HTMLElement, v: Verdict): Promise<void> {
  clear(region);
  let original: Json | undefined;
  try {
    const stored = await storedOriginal(v.anchoredDigest!);
    if (!stored) {
      region.append(h("p", { class: "warning" }, t("diff.noOriginal")));
      return;
    }
    original = resolvePointer(parseStrictJson(decodeUtf8(new TextEncoder().encode(stored.source))), stored.pointer);
  } catch (error) {
    region.append(h("p", { class: "warning" }, t("diff.unavailable", { reason: explain(error) })));
    return;
  }
  const digest = original === undefined ? "" : "0x" + toHex(await releaseDigest(original));
  if (original === undefined || digest.toLowerCase() !== v.anchoredDigest!.toLowerCase()) {
    region.append(h("p", { class: "warning", role: "alert" }, t("diff.originalMismatch")));
    return;
  }
  const changed = changedPointers(original, v.release ?? null);
  const shown = (value: Json | undefined) => (value === undefined ? t("diff.absent") : JSON.stringify(value));
  region.append(
    h("p", { class: "checked" }, t("diff.checked", { digest: shortHex(digest, 18) })),
    h("h4", {}, t("diff.changedFields")),
    h("ul", { class: "changed", "data-field": "changed" }, changed.map((p) => h("li", {}, h("code", {}, p || "/")))),
    h(
      "table",
      { class: "changes" },
      h("caption", { class: "visually-hidden" }, t("diff.changedFields")),
      h("thead", {}, h("tr", {}, [t("diff.field"), t("diff.original"), t("diff.copy")].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        changed.slice(0, 20).map((p) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("code", {}, p || "/")),
            h("td", { class: "was" }, shown(resolvePointer(original!, p))),
            h("td", { class: "now" }, shown(resolvePointer(v.release ?? null, p))),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "side-by-side" },
      h("figure", {}, h("figcaption", {}, t("diff.original")), renderJsonSide(original, changed, "original")),
      h("figure", {}, h("figcaption", {}, t("diff.copy")), renderJsonSide(v.release ?? null, changed, "copy")),
    ),
  );
  for (const pre of region.querySelectorAll<HTMLElement>("pre.json")) {
    const mark = pre.querySelector<HTMLElement>(".changed");
    if (mark) pre.scrollTop = Math.max(0, mark.offsetTop - pre.offsetTop - 60);
  }
}
