/**
 * The page's canonicalizer and digest, run under Node over RFC 8785 vectors and a folder of
 * OCDS files; prints what it computed as one JSON document for tests/web/ to compare with the
 * Python core, byte for byte. It decides nothing itself.
 *
 *   tsx scripts/digest-check.ts VECTORS.json MERKLE.json DIR...
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseStrictJson, type Json } from "../src/core/json";
import { canonicalText, toHex, sha256 } from "../src/core/jcs";
import { readFile } from "../src/core/notices";
import { memberLeaf, merkleRoot } from "../src/core/seal";
import type { Hex } from "viem";

interface Vectors {
  objects: { source: string; input: string; expected: string }[];
  numbers: { source: string; ieee754: string; expected: string | null }[];
}

function doubleOf(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + hex));
  return view.getFloat64(0);
}

function attempt<T>(make: () => T): T | { error: string } {
  try {
    return make();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

async function main(): Promise<void> {
  const [vectorsPath, merklePath, ...dirs] = process.argv.slice(2);
  const merkle = JSON.parse(readFileSync(merklePath, "utf-8")) as Record<string, { leaves: string[] }>;
  // RFC 9162 tree heads over the first n leaves of each vector set, n = 0..all.
  const roots = Object.fromEntries(
    Object.entries(merkle).map(([name, set]) => [
      name,
      set.leaves.map((_, n) => merkleRoot(set.leaves.slice(0, n).map((l) => ("0x" + l) as Hex)).slice(2)).concat(
        merkleRoot(set.leaves.map((l) => ("0x" + l) as Hex)).slice(2),
      ),
    ]),
  );
  const vectors = JSON.parse(readFileSync(vectorsPath, "utf-8")) as Vectors;
  const objects = await Promise.all(
    vectors.objects.map(async (v) => {
      const text = attempt(() => canonicalText(parseStrictJson(v.input)));
      const bytes = typeof text === "string" ? new TextEncoder().encode(text) : null;
      return { source: v.source, canonical: text, sha256: bytes ? toHex(await sha256(bytes)) : null };
    }),
  );
  const numbers = vectors.numbers.map((v) => ({ ieee754: v.ieee754, canonical: attempt(() => canonicalText(doubleOf(v.ieee754) as Json)) }));
  const files: Record<string, unknown>[] = [];
  for (const dir of dirs) {
    for (const path of filesUnder(dir)) {
      const name = relative(dir, path);
      const read = await readFile(name, new Uint8Array(readFileSync(path)));
      files.push({
        dir,
        file: name,
        problem: read.problem?.code ?? null,
        notices: read.notices.map((n) => ({ source: n.file, ocid: n.ocid, release_id: n.releaseId, stage: n.stage, digest: n.digest })),
        member_leaves: read.notices.map((n) => memberLeaf(n.ocid, n.releaseId, n.digest as Hex).slice(2)),
        skipped: read.skipped.map((s) => ({ source: s.file, code: s.code })),
      });
    }
  }
  process.stdout.write(JSON.stringify({ objects, numbers, roots, files }) + "\n");
}

void main();
