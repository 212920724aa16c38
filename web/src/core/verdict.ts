/**
 * The auditor's checklist, run in the browser: a port of backend/core/verdict.py ``judge``
 * and of the fact gathering in backend/service/verification.py, over chain reads the page
 * makes itself. Batch manifests come from the server, but count only when they re-hash to
 * a root the chain holds. What cannot be checked is never a pass: it is ``unknown``.
 */
import { BaseError, type Hex } from "viem";
import type { Json } from "./json";
import { amendsOrCancels, phase, Stage, stageTag } from "./stages";
import {
  type AnchoredEvent,
  type LedgerRecord,
  type LedgerView,
  type Position,
  type Tenure,
  comparePositions,
  noticeKey,
  ocidHash,
  ocidPrefix,
  previousLink,
} from "../chain/ledger";
import { batchSigner, memberLeaf, merkleRoot, noticeSigner, SealError } from "./seal";
import type { NoticeFacts } from "./notices";

export type Status = "anchored" | "superseded" | "tampered" | "conflict" | "not_anchored" | "invalid_seal" | "unknown";

export const PASSING: Status[] = ["anchored", "superseded"];

/** A note for the auditor: a catalog key and its parameters. */
export interface Note {
  key: string;
  params?: Record<string, string | number>;
}

export interface Verdict {
  file: string;
  ocid: string;
  releaseId: string;
  digest: Hex;
  status: Status;
  stage: string;
  agencyId: number | null;
  agency: string | null;
  signer: Hex | null;
  blockNumber: number | null;
  blockTimestamp: number | null;
  txHash: Hex | null;
  logIndex: number | null;
  batchRoot: Hex | null;
  supersededBy: string[];
  /** For tampered: the digest of the first anchor (what the original must hash to). */
  anchoredDigest: Hex | null;
  notes: Note[];
  release: Json | null;
}

interface SingleAnchor {
  kind: "single";
  record: LedgerRecord;
  event: AnchoredEvent | null;
  digest: Hex;
  agency: number;
  position: Position;
  txHash: Hex | null;
}

interface MemberAnchor {
  kind: "batch";
  root: Hex;
  size: number;
  label: string;
  seal: Hex;
  record: LedgerRecord;
  digest: Hex;
  agency: number;
  position: Position;
  txHash: Hex;
}

type Anchor = SingleAnchor | MemberAnchor;

interface Owner {
  agency: number;
  reason: Note;
}

interface Member {
  root: Hex;
  leafIndex: number;
  ocid: string;
  releaseId: string;
  key: Hex;
  digest: Hex;
  stage: number;
}

interface BatchRoot {
  record: LedgerRecord;
  size: number;
  label: string;
  seal: Hex;
  logIndex: number;
  txHash: Hex;
  members: Member[] | null; // null: no manifest that re-hashes to the root
}

/** Where batch manifests come from: the server, checked here against the chain. */
export type ManifestSource = (root: Hex) => Promise<{ index: number; ocid: string; release_id: string; key: string; digest: string; stage_code: number }[] | null>;

export interface VerifyContext {
  view: LedgerView;
  manifests: ManifestSource;
}

const CHUNK = 256;

function lower(address: string | null | undefined): string {
  return (address ?? "").toLowerCase();
}

function validAt(tenure: Tenure, position: [number, number]): boolean {
  const after = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
  if (tenure.agency === 0 || !after(position, tenure.added)) return false;
  return tenure.revoked === null || after(tenure.revoked, position);
}

function supersedes(later: { releaseId: string; stage: number; previous: Hex }, judged: NoticeFacts): boolean {
  if (judged.stage === Stage.DOCUMENT) return false;
  if (later.previous.toLowerCase() === previousLink(judged.releaseId).toLowerCase()) return true;
  if (!amendsOrCancels(later.stage)) return false;
  if (later.stage === Stage.TENDER_CANCELLATION) return phase(judged.stage) <= phase(later.stage);
  return phase(later.stage) === phase(judged.stage);
}

function authoritative(anchors: Anchor[], owner: Owner | null): Anchor | null {
  const ordered = [...anchors].sort((a, b) => comparePositions(a.position, b.position));
  const owned = ordered.filter((a) => owner === null || a.agency === owner.agency);
  return (owned.length ? owned : ordered)[0] ?? null;
}

/** Verifies notices against the chain, a chunk at a time, reporting progress. */
export class Verifier {
  private roots: Map<Hex, BatchRoot> | null = null;
  private uncheckedRoots: { root: Hex; position: Position }[] = [];

  constructor(private readonly ctx: VerifyContext) {}

  private async batchRoots(): Promise<Map<Hex, BatchRoot>> {
    if (this.roots) return this.roots;
    const roots = new Map<Hex, BatchRoot>();
    const seen = new Set<string>();
    for (const event of await this.ctx.view.batchEvents()) {
      if (seen.has(event.root)) continue;
      seen.add(event.root);
      const record = await this.ctx.view.batchRecord(event.root);
      if (!record) continue;
      let members: Member[] | null = null;
      try {
        const leaves = await this.ctx.manifests(event.root);
        if (leaves && leaves.length === event.size) {
          const parsed = leaves.map((l) => ({
            root: event.root,
            leafIndex: l.index,
            ocid: l.ocid,
            releaseId: l.release_id,
            key: (l.key.startsWith("0x") ? l.key : "0x" + l.key) as Hex,
            digest: (l.digest.startsWith("0x") ? l.digest : "0x" + l.digest) as Hex,
            stage: l.stage_code,
          }));
          const inOrder = parsed.every((m, i) => m.leafIndex === i && m.key.toLowerCase() === noticeKey(m.ocid, m.releaseId));
          const root = merkleRoot(parsed.map((m) => memberLeaf(m.ocid, m.releaseId, m.digest)));
          if (inOrder && root.toLowerCase() === event.root.toLowerCase()) members = parsed;
        }
      } catch {
        members = null;
      }
      if (members === null) this.uncheckedRoots.push({ root: event.root, position: [record.blockNumber, event.logIndex, -1] });
      roots.set(event.root, { record, size: event.size, label: event.label, seal: event.seal, logIndex: event.logIndex, txHash: event.txHash, members });
    }
    this.roots = roots;
    return roots;
  }

  /** One verdict per notice, in order; ``progress`` is called after each chunk. */
  async verify(notices: NoticeFacts[], progress?: (done: number) => void): Promise<Verdict[]> {
    const out: Verdict[] = [];
    for (let i = 0; i < notices.length; i += CHUNK) {
      out.push(...(await this.verifyChunk(notices.slice(i, i + CHUNK))));
      progress?.(out.length);
    }
    return out;
  }

  private async verifyChunk(chunk: NoticeFacts[]): Promise<Verdict[]> {
    const view = this.ctx.view;
    const roots = await this.batchRoots();
    const names = await view.agencyNames();
    const members = [...roots.values()].flatMap((r) => r.members ?? []);
    const extraNotes = new Map<NoticeFacts, Note[]>();

    // Documents known only by their bytes: their ocid and id come from their first anchor.
    const byDigest = chunk.filter((f) => f.byDigest);
    if (byDigest.length) {
      const found = new Map<string, { position: Position; ocid: string; releaseId: string; agency: number }[]>();
      for (const e of await view.noticeEvents(3, byDigest.map((f) => f.digest as Hex))) {
        const list = found.get(e.digest.toLowerCase()) ?? [];
        list.push({ position: [e.blockNumber, e.logIndex, -1], ocid: e.fields.ocid, releaseId: e.fields.releaseId, agency: e.agency });
        found.set(e.digest.toLowerCase(), list);
      }
      for (const m of members) {
        const root = roots.get(m.root)!;
        const list = found.get(m.digest.toLowerCase());
        if (list || byDigest.some((f) => f.digest.toLowerCase() === m.digest.toLowerCase())) {
          const entries = list ?? [];
          entries.push({ position: [root.record.blockNumber, root.logIndex, m.leafIndex], ocid: m.ocid, releaseId: m.releaseId, agency: root.record.agency });
          found.set(m.digest.toLowerCase(), entries);
        }
      }
      chunk = chunk.map((facts) => {
        if (!facts.byDigest) return facts;
        const anchored = (found.get(facts.digest.toLowerCase()) ?? []).sort((a, b) => comparePositions(a.position, b.position));
        if (!anchored.length) return facts;
        const resolved = { ...facts, ocid: anchored[0].ocid, releaseId: anchored[0].releaseId };
        extraNotes.set(
          resolved,
          anchored
            .slice(1)
            .filter((a) => a.ocid !== anchored[0].ocid)
            .map((a) => ({ key: "note.alsoAnchored", params: { ocid: a.ocid, agency: agencyLabel(a.agency, names) } })),
        );
        return resolved;
      });
    }

    const keys = chunk.map((f) => noticeKey(f.ocid, f.releaseId));
    const records = await view.recordsByKey(keys);
    const ocids = [...new Set(chunk.map((f) => f.ocid).filter(Boolean))];
    const events = await view.noticeEvents(2, ocids.map(ocidHash));
    const eventsByKey = new Map<string, AnchoredEvent[]>();
    const eventsByProcess = new Map<string, AnchoredEvent[]>();
    for (const e of events) {
      (eventsByKey.get(e.key) ?? eventsByKey.set(e.key, []).get(e.key)!).push(e);
      (eventsByProcess.get(e.ocidHash) ?? eventsByProcess.set(e.ocidHash, []).get(e.ocidHash)!).push(e);
    }
    const membersByKey = new Map<string, Member[]>();
    const membersByOcid = new Map<string, Member[]>();
    for (const m of members) {
      (membersByKey.get(m.key.toLowerCase()) ?? membersByKey.set(m.key.toLowerCase(), []).get(m.key.toLowerCase())!).push(m);
      (membersByOcid.get(m.ocid) ?? membersByOcid.set(m.ocid, []).get(m.ocid)!).push(m);
    }
    const reservations = await view.reservations();
    const owners = new Map<string, Owner | null>();
    for (const ocid of ocids) {
      owners.set(ocid, this.owner(ocid, eventsByProcess.get(ocidHash(ocid)) ?? [], membersByOcid.get(ocid) ?? [], roots, reservations));
    }
    const tenures = await view.tenures();

    const verdicts: Verdict[] = [];
    for (const [index, facts] of chunk.entries()) {
      const key = keys[index];
      const record = records[index];
      const anchors: Anchor[] = [];
      if (record) {
        const event = (eventsByKey.get(key) ?? []).find((e) => e.digest.toLowerCase() === record.digest.toLowerCase()) ?? null;
        anchors.push({
          kind: "single",
          record,
          event,
          digest: record.digest,
          agency: record.agency,
          position: [record.blockNumber, event ? event.logIndex : 0, -1],
          txHash: event ? event.txHash : null,
        });
      }
      for (const m of membersByKey.get(key.toLowerCase()) ?? []) {
        const root = roots.get(m.root)!;
        anchors.push({
          kind: "batch",
          root: m.root,
          size: root.size,
          label: root.label,
          seal: root.seal,
          record: root.record,
          digest: m.digest,
          agency: root.record.agency,
          position: [root.record.blockNumber, root.logIndex, m.leafIndex],
          txHash: root.txHash,
        });
      }
      const owner = owners.get(facts.ocid) ?? null;
      const first = authoritative(anchors, owner);
      const later = first ? this.later(eventsByProcess.get(ocidHash(facts.ocid)) ?? [], membersByOcid.get(facts.ocid) ?? [], roots, first.position) : [];
      const notes = [...(extraNotes.get(facts) ?? [])];
      // A batch root whose manifest could not be checked may hold an earlier anchor of this notice.
      const blind = this.uncheckedRoots.filter((r) => !first || comparePositions(r.position, first.position) < 0);
      const verdict = await judge(facts, {
        chainId: view.deployment.chain_id,
        ledger: view.deployment.ledger,
        anchors,
        tenures,
        owner,
        later,
        names,
        notes,
      });
      if (blind.length && verdict.status !== "tampered") {
        verdict.status = "unknown";
        verdict.notes.push({ key: "note.uncheckedBatches", params: { count: blind.length } });
      }
      verdicts.push(verdict);
    }
    return verdicts;
  }

  private owner(
    ocid: string,
    events: AnchoredEvent[],
    members: Member[],
    roots: Map<Hex, BatchRoot>,
    reservations: Map<string, { agency: number; position: [number, number] }>,
  ): Owner | null {
    const candidates: { position: Position; agency: number; reason: Note }[] = events.map((e) => ({
      position: [e.blockNumber, e.logIndex, -1],
      agency: e.agency,
      reason: { key: "note.ownerOpened", params: { block: e.blockNumber, tx: e.txHash } },
    }));
    for (const m of members) {
      const root = roots.get(m.root)!;
      candidates.push({
        position: [root.record.blockNumber, root.logIndex, m.leafIndex],
        agency: root.record.agency,
        reason: { key: "note.ownerOpenedBatch", params: { block: root.record.blockNumber, leaf: m.leafIndex, root: m.root } },
      });
    }
    candidates.sort((a, b) => comparePositions(a.position, b.position));
    const prefix = ocidPrefix(ocid);
    const reserved = prefix ? reservations.get(prefix) : undefined;
    for (const c of candidates) {
      if (!reserved) return { agency: c.agency, reason: c.reason };
      const before = c.position[0] < reserved.position[0] || (c.position[0] === reserved.position[0] && c.position[1] < reserved.position[1]);
      if (c.agency === reserved.agency || before) return { agency: c.agency, reason: c.reason };
    }
    if (reserved) return { agency: reserved.agency, reason: { key: "note.ownerReserved", params: { prefix: prefix!, block: reserved.position[0] } } };
    return null;
  }

  private later(events: AnchoredEvent[], members: Member[], roots: Map<Hex, BatchRoot>, after: Position) {
    const found: { position: Position; releaseId: string; stage: number; previous: Hex; agency: number }[] = events.map((e) => ({
      position: [e.blockNumber, e.logIndex, -1],
      releaseId: e.fields.releaseId,
      stage: e.fields.stage,
      previous: e.fields.previous,
      agency: e.agency,
    }));
    for (const m of members) {
      const root = roots.get(m.root)!;
      found.push({
        position: [root.record.blockNumber, root.logIndex, m.leafIndex],
        releaseId: m.releaseId,
        stage: m.stage,
        previous: ("0x" + "00".repeat(32)) as Hex,
        agency: root.record.agency,
      });
    }
    return found.sort((a, b) => comparePositions(a.position, b.position)).filter((n) => comparePositions(n.position, after) > 0);
  }

  /** Roots whose manifests the page could not check (for the page to say so). */
  get unchecked(): number {
    return this.uncheckedRoots.length;
  }
}

export function agencyLabel(agency: number, names: Map<number, string>): string {
  const name = names.get(agency);
  return name ? `${agency} (${name})` : String(agency);
}

function describe(anchor: Anchor, names: Map<number, string>): Record<string, string | number> {
  return {
    agency: agencyLabel(anchor.agency, names),
    block: anchor.position[0],
    tx: anchor.txHash ?? "",
    ...(anchor.kind === "batch" ? { leaf: anchor.position[2], root: anchor.root } : {}),
  };
}

interface JudgeInput {
  chainId: number;
  ledger: Hex;
  anchors: Anchor[];
  tenures: Map<string, Tenure>;
  owner: Owner | null;
  later: { releaseId: string; stage: number; previous: Hex; agency: number }[];
  names: Map<number, string>;
  notes: Note[];
}

/** ``judge``, step by step, as in backend/core/verdict.py. */
/** A verdict on ``notice`` with nothing found yet: the start of every judgement. */
export function blankVerdict(notice: NoticeFacts, status: Status, stage: string, notes: Note[]): Verdict {
  return {
    file: notice.file,
    ocid: notice.ocid,
    releaseId: notice.releaseId,
    digest: notice.digest as Hex,
    status,
    stage,
    agencyId: null,
    agency: null,
    signer: null,
    blockNumber: null,
    blockTimestamp: null,
    txHash: null,
    logIndex: null,
    batchRoot: null,
    supersededBy: [],
    anchoredDigest: null,
    notes,
    release: notice.release,
  };
}

export async function judge(notice: NoticeFacts, input: JudgeInput): Promise<Verdict> {
  const { names, owner } = input;
  const verdict = blankVerdict(notice, "not_anchored", stageTag(notice.stage), [...input.notes]);

  // 1. Nothing anchored under this (ocid, release id): not anchored.
  if (!input.anchors.length) return verdict;

  // 2. First anchor wins, among the process owner's anchors when it has one.
  const ordered = [...input.anchors].sort((a, b) => comparePositions(a.position, b.position));
  const first = authoritative(ordered, owner)!;
  const owned = ordered.filter((a) => owner === null || a.agency === owner.agency);
  if (owned.length) {
    for (const foreign of ordered.filter((a) => !owned.includes(a))) {
      verdict.notes.push({ key: "note.ignoredForeign", params: { ...describe(foreign, names), owner: owner ? agencyLabel(owner.agency, names) : "" } });
    }
  }
  verdict.agencyId = first.agency || null;
  verdict.agency = names.get(first.agency) ?? null;
  verdict.txHash = first.txHash;
  verdict.signer = first.record.signer;
  verdict.blockNumber = first.record.blockNumber;
  verdict.blockTimestamp = first.record.timestamp;
  if (first.kind === "single") verdict.logIndex = first.event ? first.event.logIndex : null;
  else {
    verdict.batchRoot = first.root;
    verdict.logIndex = first.position[1];
  }

  // 3. The first anchor holds another digest: this copy was altered.
  if (first.digest.toLowerCase() !== notice.digest.toLowerCase()) {
    verdict.status = "tampered";
    verdict.anchoredDigest = first.digest;
    verdict.notes.push({ key: "note.firstAnchorOther", params: { digest: first.digest, ...describe(first, names) } });
    for (const copy of ordered.filter((a) => a !== first && a.digest.toLowerCase() === notice.digest.toLowerCase())) {
      verdict.notes.push({ key: "note.copyAnchoredLater", params: describe(copy, names) });
    }
    return verdict;
  }

  // 4. The seal must recover to a key of the anchoring agency valid at the anchor's position.
  const problem = first.kind === "single" ? await sealProblem(notice, first, input) : await batchProblem(first, input);
  if (problem) {
    verdict.status = "invalid_seal";
    verdict.notes.push(problem);
    return verdict;
  }

  // 5. A notice anchored by another agency than the process's owner is a conflict.
  if (owner !== null && owner.agency !== first.agency) {
    verdict.status = "conflict";
    verdict.notes.push({
      key: "note.conflict",
      params: { ocid: notice.ocid, owner: agencyLabel(owner.agency, names), by: agencyLabel(first.agency, names) },
    });
    verdict.notes.push(owner.reason);
    return verdict;
  }

  // 6. A later amendment or cancellation of the process, by its owner, supersedes it.
  verdict.supersededBy = input.later
    .filter((n) => supersedes(n, notice) && (owner === null || !n.agency || n.agency === owner.agency))
    .map((n) => n.releaseId);
  verdict.status = verdict.supersededBy.length ? "superseded" : "anchored";
  return verdict;
}

/** Why a seal did not recover; anything else than a bad seal is rethrown: a check not made is no finding. */
function sealFailure(error: unknown): string {
  if (error instanceof SealError) return error.message;
  if (error instanceof BaseError) return error.shortMessage;
  throw error;
}

function tenureProblem(signer: string, agency: number, position: [number, number], tenures: Map<string, Tenure>): Note | null {
  const tenure = tenures.get(lower(signer));
  if (!tenure || tenure.agency !== agency) return { key: "note.notAgencyKey", params: { signer, agency } };
  if (!validAt(tenure, position)) return { key: "note.keyNotValid", params: { signer, block: position[0], log: position[1] } };
  return null;
}

async function sealProblem(notice: NoticeFacts, anchor: SingleAnchor, input: JudgeInput): Promise<Note | null> {
  const event = anchor.event;
  if (!event) return { key: "note.noSealEvent" };
  if (event.fields.digest.toLowerCase() !== notice.digest.toLowerCase() || event.fields.releaseId !== notice.releaseId) {
    return { key: "note.sealOtherFields" };
  }
  let signer: Hex;
  try {
    signer = await noticeSigner(event.fields, event.seal, input.chainId, input.ledger);
  } catch (error) {
    return { key: "note.sealNoRecover", params: { reason: sealFailure(error) } };
  }
  if (lower(signer) !== lower(anchor.record.signer)) {
    return { key: "note.sealOtherSigner", params: { signer, recorded: anchor.record.signer } };
  }
  return tenureProblem(signer, anchor.record.agency, [anchor.record.blockNumber, event.logIndex], input.tenures);
}

async function batchProblem(anchor: MemberAnchor, input: JudgeInput): Promise<Note | null> {
  let signer: Hex;
  try {
    signer = await batchSigner(anchor.root, anchor.size, anchor.label, anchor.seal, input.chainId, input.ledger);
  } catch (error) {
    return { key: "note.sealNoRecover", params: { reason: sealFailure(error) } };
  }
  if (lower(signer) !== lower(anchor.record.signer)) {
    return { key: "note.sealOtherSigner", params: { signer, recorded: anchor.record.signer } };
  }
  return tenureProblem(signer, anchor.record.agency, [anchor.record.blockNumber, anchor.position[1]], input.tenures);
}

/** JSON pointers of every value changed, added or removed (backend/core/diff.py). */
export function changedPointers(original: Json, altered: Json, limit = 1000): string[] {
  const found: string[] = [];
  const esc = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");
  const walk = (a: Json, b: Json, pointer: string): void => {
    if (found.length >= limit) return;
    const objA = typeof a === "object" && a !== null && !Array.isArray(a);
    const objB = typeof b === "object" && b !== null && !Array.isArray(b);
    if (objA && objB) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) {
        const here = `${pointer}/${esc(key)}`;
        if (!(key in a) || !(key in b)) found.push(here);
        else walk((a as Record<string, Json>)[key], (b as Record<string, Json>)[key], here);
      }
    } else if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const here = `${pointer}/${i}`;
        if (i >= a.length || i >= b.length) found.push(here);
        else walk(a[i], b[i], here);
      }
    } else if (!(a === b || (typeof a === "object" && typeof b === "object" && a === null && b === null))) {
      found.push(pointer);
    }
  };
  walk(original, altered, "");
  return found.slice(0, limit);
}
