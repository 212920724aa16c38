/**
 * Reading the ledger from the chain: records, events, agencies, key tenures, reservations.
 * Everything here comes from JSON-RPC answers the page checks itself; nothing from our server.
 */
import {
  type Hex,
  concat,
  decodeEventLog,
  decodeFunctionResult,
  encodeEventTopics,
  encodeFunctionData,
  keccak256,
  toBytes,
  toHex,
} from "viem";
import { ledgerAbi } from "./abi";
import { ChainError, type Rpc } from "./rpc";

export interface Deployment {
  chain_id: number;
  ledger: Hex;
  code_hash: Hex;
  block_number: number;
  immutable_ranges: [number, number][];
  rpc_url: string | null;
}

/** (block, log index, leaf): chain order is tuple order; -1 for single notices. */
export type Position = [number, number, number];

export function comparePositions(a: Position, b: Position): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export interface LedgerRecord {
  digest: Hex;
  signer: Hex;
  agency: number;
  blockNumber: number;
  timestamp: number;
  stage: number;
}

export interface SealedFields {
  ocid: string;
  releaseId: string;
  stage: number;
  digest: Hex;
  previous: Hex;
  deadline: bigint;
}

export interface AnchoredEvent {
  key: Hex;
  ocidHash: Hex;
  digest: Hex;
  agency: number;
  signer: Hex;
  fields: SealedFields;
  seal: Hex;
  blockNumber: number;
  txHash: Hex;
  logIndex: number;
}

export interface BatchEvent {
  root: Hex;
  agency: number;
  signer: Hex;
  size: number;
  label: string;
  seal: Hex;
  blockNumber: number;
  txHash: Hex;
  logIndex: number;
}

export interface Tenure {
  agency: number;
  key: Hex;
  added: [number, number];
  revoked: [number, number] | null;
}

export interface Reservation {
  agency: number;
  prefix: string;
  position: [number, number];
}

const ZERO32 = ("0x" + "00".repeat(32)) as Hex;
const LOOKUP_CHUNK = 256;

export function ocidHash(ocid: string): Hex {
  return keccak256(toBytes(ocid));
}

export function noticeKey(ocid: string, releaseId: string): Hex {
  return keccak256(concat([keccak256(toBytes(ocid)), keccak256(toBytes(releaseId))]));
}

export function previousLink(releaseId: string): Hex {
  return releaseId ? keccak256(toBytes(releaseId)) : ZERO32;
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The reserved-prefix part of an ocid (lowercased up to its second hyphen), or null. */
export function ocidPrefix(ocid: string): string | null {
  const first = ocid.indexOf("-");
  if (first < 0) return null;
  const second = ocid.indexOf("-", first + 1);
  if (second < 0) return null;
  return asciiLower(ocid.slice(0, second));
}

function normalizePrefix(prefix: string): string {
  let text = prefix.trim();
  if (text.endsWith("-")) text = text.slice(0, -1);
  return asciiLower(text);
}

function topicOf(eventName: "NoticeAnchored" | "BatchAnchored" | "AgencyRegistered" | "SealKeyAdded" | "SealKeyRevoked" | "OcidPrefixReserved"): Hex {
  return encodeEventTopics({ abi: ledgerAbi, eventName } as Parameters<typeof encodeEventTopics>[0])[0] as Hex;
}

interface RawLog {
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  transactionHash: Hex;
  logIndex: Hex;
  removed?: boolean;
}

/** Hash of runtime code with the immutable ranges zeroed, as backend/chain/artifacts.py computes it. */
export function maskedCodeHash(code: Hex, ranges: [number, number][]): Hex {
  const bytes = toBytes(code);
  for (const [start, length] of ranges) bytes.fill(0, start, start + length);
  return keccak256(bytes);
}

export class LedgerView {
  private cache = new Map<string, Promise<unknown>>();

  private constructor(
    readonly rpc: Rpc,
    readonly deployment: Deployment,
    readonly head: bigint,
  ) {}

  /** Check chain id and deployed code on every endpoint, and pin the block to read at. */
  static async open(rpc: Rpc, deployment: Deployment): Promise<LedgerView> {
    for (const url of rpc.endpoints) {
      const chainId = Number(BigInt((await rpc.callOne(url, "eth_chainId", [])) as string));
      if (chainId !== deployment.chain_id) {
        throw new ChainError("rpc.wrongChain", { endpoint: url, found: String(chainId), expected: String(deployment.chain_id) });
      }
    }
    const head = await rpc.commonHead();
    const block = toHex(head);
    await rpc.call("eth_getBlockByNumber", [block, false]); // the same block on every endpoint
    for (const url of rpc.endpoints) {
      const code = (await rpc.callOne(url, "eth_getCode", [deployment.ledger, block])) as Hex;
      if (!code || code === "0x") throw new ChainError("rpc.noCode", { endpoint: url, address: deployment.ledger });
      const found = maskedCodeHash(code, deployment.immutable_ranges);
      if (found.toLowerCase() !== deployment.code_hash.toLowerCase()) {
        throw new ChainError("rpc.codeDiffers", { endpoint: url, address: deployment.ledger });
      }
    }
    return new LedgerView(rpc, deployment, head);
  }

  private memo<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as Promise<T>;
  }

  async logs(topics: (Hex | Hex[] | null)[], fromBlock?: number): Promise<RawLog[]> {
    const logs = await this.rpc.call<RawLog[]>("eth_getLogs", [
      {
        address: this.deployment.ledger,
        fromBlock: toHex(fromBlock ?? this.deployment.block_number),
        toBlock: toHex(this.head),
        topics,
      },
    ]);
    return logs.filter((log) => !log.removed);
  }

  async recordsByKey(keys: Hex[]): Promise<(LedgerRecord | null)[]> {
    const out: (LedgerRecord | null)[] = [];
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      const data = encodeFunctionData({ abi: ledgerAbi, functionName: "recordsByKey", args: [keys.slice(i, i + LOOKUP_CHUNK)] });
      const result = await this.rpc.call<Hex>("eth_call", [{ to: this.deployment.ledger, data }, toHex(this.head)]);
      const records = decodeFunctionResult({ abi: ledgerAbi, functionName: "recordsByKey", data: result });
      for (const r of records) {
        out.push(
          r.digest === ZERO32
            ? null
            : { digest: r.digest, signer: r.signer, agency: r.agency, blockNumber: Number(r.blockNumber), timestamp: Number(r.timestamp), stage: r.stage },
        );
      }
    }
    return out;
  }

  async batchRecord(root: Hex): Promise<LedgerRecord | null> {
    const data = encodeFunctionData({ abi: ledgerAbi, functionName: "batchRecord", args: [root] });
    const result = await this.rpc.call<Hex>("eth_call", [{ to: this.deployment.ledger, data }, toHex(this.head)]);
    const r = decodeFunctionResult({ abi: ledgerAbi, functionName: "batchRecord", data: result });
    if (r.agency === 0) return null;
    return { digest: root, signer: r.signer, agency: r.agency, blockNumber: Number(r.blockNumber), timestamp: Number(r.timestamp), stage: 0 };
  }

  /** NoticeAnchored events whose indexed field (1 key, 2 ocid hash, 3 digest) is one of ``values``. */
  async noticeEvents(position: 1 | 2 | 3, values: Hex[]): Promise<AnchoredEvent[]> {
    const out: AnchoredEvent[] = [];
    for (let i = 0; i < values.length; i += LOOKUP_CHUNK) {
      const topics: (Hex | Hex[] | null)[] = [topicOf("NoticeAnchored"), null, null, null];
      topics[position] = values.slice(i, i + LOOKUP_CHUNK);
      for (const log of await this.logs(topics.slice(0, position + 1))) out.push(decodeNotice(log));
    }
    return out;
  }

  /** The latest NoticeAnchored events (for the ledger page). */
  async allNoticeEvents(fromBlock?: number): Promise<AnchoredEvent[]> {
    return (await this.logs([topicOf("NoticeAnchored")], fromBlock)).map(decodeNotice);
  }

  batchEvents(): Promise<BatchEvent[]> {
    return this.memo("batches", async () =>
      (await this.logs([topicOf("BatchAnchored")])).map((log) => {
        const { args } = decodeEventLog({ abi: ledgerAbi, eventName: "BatchAnchored", data: log.data, topics: log.topics as [Hex, ...Hex[]] });
        return {
          root: args.root,
          agency: args.agency,
          signer: args.signer,
          size: args.size,
          label: args.label,
          seal: args.seal,
          blockNumber: Number(BigInt(log.blockNumber)),
          txHash: log.transactionHash,
          logIndex: Number(BigInt(log.logIndex)),
        };
      }),
    );
  }

  agencyNames(): Promise<Map<number, string>> {
    return this.memo("agencies", async () => {
      const names = new Map<number, string>();
      for (const log of await this.logs([topicOf("AgencyRegistered")])) {
        const { args } = decodeEventLog({ abi: ledgerAbi, eventName: "AgencyRegistered", data: log.data, topics: log.topics as [Hex, ...Hex[]] });
        names.set(args.agency, args.name);
      }
      return names;
    });
  }

  /** Every seal key's tenure: from the event that added it to the one that revoked it. */
  tenures(): Promise<Map<string, Tenure>> {
    return this.memo("tenures", async () => {
      const logs = await this.logs([[topicOf("SealKeyAdded"), topicOf("SealKeyRevoked")]]);
      const tenures = new Map<string, Tenure>();
      const ordered = logs
        .map((log) => ({ log, pos: [Number(BigInt(log.blockNumber)), Number(BigInt(log.logIndex))] as [number, number] }))
        .sort((a, b) => a.pos[0] - b.pos[0] || a.pos[1] - b.pos[1]);
      for (const { log, pos } of ordered) {
        const added = log.topics[0] === topicOf("SealKeyAdded");
        const agency = Number(BigInt(log.topics[1]));
        const key = ("0x" + log.topics[2].slice(26)).toLowerCase() as Hex;
        if (added) tenures.set(key, { agency, key, added: pos, revoked: null });
        else if (tenures.has(key)) tenures.get(key)!.revoked = pos;
      }
      return tenures;
    });
  }

  /** The first reservation of each ocid prefix. */
  reservations(): Promise<Map<string, Reservation>> {
    return this.memo("reservations", async () => {
      const found = new Map<string, Reservation>();
      for (const log of await this.logs([topicOf("OcidPrefixReserved")])) {
        const { args } = decodeEventLog({ abi: ledgerAbi, eventName: "OcidPrefixReserved", data: log.data, topics: log.topics as [Hex, ...Hex[]] });
        const prefix = normalizePrefix(args.prefix);
        if (!found.has(prefix)) {
          found.set(prefix, { agency: args.agency, prefix, position: [Number(BigInt(log.blockNumber)), Number(BigInt(log.logIndex))] });
        }
      }
      return found;
    });
  }

  async blockTimestamp(block: number): Promise<number> {
    return this.memo(`block:${block}`, async () => {
      const header = await this.rpc.call<{ timestamp: Hex }>("eth_getBlockByNumber", [toHex(block), false]);
      return Number(BigInt(header.timestamp));
    });
  }
}

function decodeNotice(log: RawLog): AnchoredEvent {
  const { args } = decodeEventLog({ abi: ledgerAbi, eventName: "NoticeAnchored", data: log.data, topics: log.topics as [Hex, ...Hex[]] });
  return {
    key: args.key,
    ocidHash: args.ocidHash,
    digest: args.digest,
    agency: args.agency,
    signer: args.signer,
    fields: {
      ocid: args.notice.ocid,
      releaseId: args.notice.releaseId,
      stage: args.notice.stage,
      digest: args.notice.digest,
      previous: args.notice.previous,
      deadline: args.notice.deadline,
    },
    seal: args.seal,
    blockNumber: Number(BigInt(log.blockNumber)),
    txHash: log.transactionHash,
    logIndex: Number(BigInt(log.logIndex)),
  };
}
