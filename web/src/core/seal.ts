/**
 * EIP-712 seals, recovered in the browser (mirror of backend/core/seal.py): the domain names
 * the chain id and the ledger, so a seal recovers to the agency key only for this ledger.
 */
import { type Hex, recoverTypedDataAddress, sha256 as nobleSha256, concat, toBytes, numberToHex } from "viem";
import type { SealedFields } from "../chain/ledger";

const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

const NOTICE_TYPES = {
  Notice: [
    { name: "ocid", type: "string" },
    { name: "releaseId", type: "string" },
    { name: "stage", type: "uint8" },
    { name: "digest", type: "bytes32" },
    { name: "previous", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

const BATCH_TYPES = {
  Batch: [
    { name: "root", type: "bytes32" },
    { name: "size", type: "uint32" },
    { name: "label", type: "string" },
  ],
} as const;

export class SealError extends Error {}

function domain(chainId: number, contract: Hex) {
  return { name: "tenderledger", version: "1", chainId, verifyingContract: contract } as const;
}

/** Refuse what the contract refuses: wrong length, v not 27/28, zero r or s, high s. */
function checkShape(seal: Hex): void {
  const bytes = toBytes(seal);
  if (bytes.length !== 65) throw new SealError(`a seal is 65 bytes, got ${bytes.length}`);
  const r = BigInt(numberToHexOf(bytes.slice(0, 32)));
  const s = BigInt(numberToHexOf(bytes.slice(32, 64)));
  const v = bytes[64];
  if (v !== 27 && v !== 28) throw new SealError(`seal v must be 27 or 28, got ${v}`);
  if (r === 0n || s === 0n || s > HALF_N) throw new SealError("seal is malleable or out of range");
}

function numberToHexOf(bytes: Uint8Array): Hex {
  return ("0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")) as Hex;
}

export async function noticeSigner(fields: SealedFields, seal: Hex, chainId: number, contract: Hex): Promise<Hex> {
  checkShape(seal);
  return recoverTypedDataAddress({
    domain: domain(chainId, contract),
    types: NOTICE_TYPES,
    primaryType: "Notice",
    message: { ...fields },
    signature: seal,
  });
}

export async function batchSigner(root: Hex, size: number, label: string, seal: Hex, chainId: number, contract: Hex): Promise<Hex> {
  checkShape(seal);
  return recoverTypedDataAddress({
    domain: domain(chainId, contract),
    types: BATCH_TYPES,
    primaryType: "Batch",
    message: { root, size, label },
    signature: seal,
  });
}

// ---------------------------------------------------------------- Merkle batches (RFC 9162)

const MEMBER_TAG = new TextEncoder().encode("tenderledger-batch-member/1\u0000");

function u16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

/** The 32-byte leaf of a batch member (backend/core/merkle.py ``member_leaf``). */
export function memberLeaf(ocid: string, releaseId: string, digest: Hex): Hex {
  const o = toBytes(ocid);
  const r = toBytes(releaseId);
  return nobleSha256(concat([MEMBER_TAG, u16(o.length), o, u16(r.length), r, toBytes(digest)]));
}

function leafHash(leaf: Hex): Hex {
  return nobleSha256(concat([new Uint8Array([0]), toBytes(leaf)]));
}

function nodeHash(left: Hex, right: Hex): Hex {
  return nobleSha256(concat([new Uint8Array([1]), toBytes(left), toBytes(right)]));
}

/** RFC 9162 Merkle tree hash over leaves. */
export function merkleRoot(leaves: Hex[]): Hex {
  if (leaves.length === 0) return nobleSha256(new Uint8Array());
  const hashes = leaves.map(leafHash);
  const mth = (start: number, n: number): Hex => {
    if (n === 1) return hashes[start];
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(mth(start, k), mth(start + k, n - k));
  };
  return mth(0, hashes.length);
}

export { numberToHex };
