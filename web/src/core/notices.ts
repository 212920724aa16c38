/**
 * The notices in a dropped file, read as backend/core/notice.py reads them: a release,
 * a release package, a record package or a single record; linked, compiled and versioned
 * releases are skipped with a reason; any other file is an evidence document, known by
 * the SHA-256 of its bytes.
 */
import { decodeUtf8, isObject, parseStrictJson, type Json } from "./json";
import { releaseDigest, sha256, toHex } from "./jcs";
import { readStage, Stage } from "./stages";

export interface NoticeFacts {
  file: string;
  ocid: string;
  releaseId: string;
  stage: number;
  digest: string; // 0x + 64 hex
  release: Json | null;
  byDigest: boolean;
  buyer?: string;
  title?: string;
}

export interface Skipped {
  file: string;
  code: string; // a message key
  detail?: string;
}

export interface ReadResult {
  notices: NoticeFacts[];
  skipped: Skipped[];
  /** A problem with the whole file: not JSON, not OCDS, too large. */
  problem?: { code: string; detail?: string };
}

export const MAX_FILE_BYTES = 8 * 1024 * 1024;

function identifier(value: unknown): string | null {
  if (typeof value === "string") return value.trim() ? value : null;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  return null;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim()) return value.trim();
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  return undefined;
}

function buyerName(release: Record<string, Json>): string | undefined {
  const candidates: unknown[] = [release.buyer];
  if (Array.isArray(release.parties)) {
    for (const party of release.parties) {
      if (isObject(party) && Array.isArray(party.roles) && party.roles.includes("buyer")) candidates.push(party);
    }
  }
  for (const org of candidates) {
    if (!isObject(org)) continue;
    const found = text(org.name) ?? text(org.id);
    if (found) return found;
  }
  return undefined;
}

export function titleOf(release: Json | null): string | undefined {
  if (!isObject(release)) return undefined;
  const tender = release.tender;
  if (isObject(tender) && text(tender.title)) return text(tender.title);
  for (const section of ["awards", "contracts"]) {
    const list = release[section];
    if (Array.isArray(list) && isObject(list[0]) && text(list[0].title)) return text(list[0].title);
  }
  return undefined;
}

async function readEntry(entry: Json, source: string): Promise<NoticeFacts | Skipped> {
  if (!isObject(entry)) return { file: source, code: "skip.notObject" };
  if ("url" in entry && !("id" in entry)) return { file: source, code: "skip.linked" };
  const stage = readStage(entry);
  if (stage === "compiled") return { file: source, code: "skip.compiled" };
  const ocid = "ocid" in entry ? identifier(entry.ocid) : null;
  if (ocid === null) return { file: source, code: "skip.badOcid" };
  const releaseId = "id" in entry ? identifier(entry.id) : null;
  if (releaseId === null) return { file: source, code: "skip.badId" };
  if (stage === null) return { file: source, code: "skip.noStage" };
  let digest: Uint8Array;
  try {
    digest = await releaseDigest(entry);
  } catch (error) {
    return { file: source, code: "skip.notCanonical", detail: (error as Error).message };
  }
  return {
    file: source,
    ocid,
    releaseId,
    stage,
    digest: "0x" + toHex(digest),
    release: entry,
    byDigest: false,
    buyer: buyerName(entry),
    title: titleOf(entry),
  };
}

/** The notices of one parsed JSON document, or a problem when it is no OCDS at all. */
export async function noticesOfDocument(document: Json, source: string): Promise<ReadResult> {
  const result: ReadResult = { notices: [], skipped: [] };
  const add = (entry: NoticeFacts | Skipped): void => {
    if ("code" in entry) result.skipped.push(entry);
    else result.notices.push(entry);
  };
  if (!isObject(document)) return { ...result, problem: { code: "problem.notOcds" } };
  if ("records" in document) {
    if (!Array.isArray(document.records)) return { ...result, problem: { code: "problem.notOcds" } };
    for (const [index, record] of document.records.entries()) {
      const base = `${source}#/records/${index}`;
      if (!isObject(record) || !Array.isArray(record.releases)) {
        result.skipped.push({ file: base, code: "skip.badRecord" });
        continue;
      }
      for (const [i, entry] of record.releases.entries()) add(await readEntry(entry, `${base}/releases/${i}`));
      if ("compiledRelease" in record) result.skipped.push({ file: `${base}/compiledRelease`, code: "skip.compiled" });
      if ("versionedRelease" in record) result.skipped.push({ file: `${base}/versionedRelease`, code: "skip.versioned" });
    }
  } else if ("releases" in document && ("ocid" in document || "compiledRelease" in document || "versionedRelease" in document)) {
    if (!Array.isArray(document.releases)) return { ...result, problem: { code: "problem.notOcds" } };
    for (const [i, entry] of document.releases.entries()) add(await readEntry(entry, `${source}#/releases/${i}`));
    if ("compiledRelease" in document) result.skipped.push({ file: `${source}#/compiledRelease`, code: "skip.compiled" });
    if ("versionedRelease" in document) result.skipped.push({ file: `${source}#/versionedRelease`, code: "skip.versioned" });
  } else if ("releases" in document) {
    if (!Array.isArray(document.releases)) return { ...result, problem: { code: "problem.notOcds" } };
    for (const [i, entry] of document.releases.entries()) add(await readEntry(entry, `${source}#/releases/${i}`));
  } else if ("ocid" in document || "id" in document || "tag" in document) {
    add(await readEntry(document, source));
  } else {
    return { ...result, problem: { code: "problem.notOcds" } };
  }
  return result;
}

/** The notices of one dropped file: JSON files as OCDS, other files as evidence documents. */
export async function readFile(name: string, bytes: Uint8Array): Promise<ReadResult> {
  if (bytes.length > MAX_FILE_BYTES) {
    return { notices: [], skipped: [], problem: { code: "problem.tooLarge", detail: String(bytes.length) } };
  }
  const looksJson = /\.json$/i.test(name);
  if (!looksJson) {
    const digest = "0x" + toHex(await sha256(bytes));
    return {
      notices: [
        { file: name, ocid: "", releaseId: "sha256:" + digest.slice(2), stage: Stage.DOCUMENT, digest, release: null, byDigest: true },
      ],
      skipped: [],
    };
  }
  let document: Json;
  try {
    document = parseStrictJson(decodeUtf8(bytes));
  } catch (error) {
    return { notices: [], skipped: [], problem: { code: "problem.notJson", detail: (error as Error).message } };
  }
  return noticesOfDocument(document, name);
}
