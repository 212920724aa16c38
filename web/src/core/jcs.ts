/**
 * RFC 8785 (JSON Canonicalization Scheme) canonical bytes and the release digest,
 * written apart from the Python core (backend/core/canonical.py) on purpose: the two
 * are held to the same bytes by tests/web/test_digest_agreement.py.
 *
 * Keys sort by UTF-16 code units (JavaScript's own string order), numbers take their
 * ECMAScript form (JavaScript's own Number to String), strings escape only what RFC
 * 8785 escapes, and there is no whitespace.
 */
import { MAX_DEPTH, type Json } from "./json";

export class CanonicalizationError extends Error {}

const SHORT_ESCAPES: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

function quote(text: string): string {
  if (!text.isWellFormed()) throw new CanonicalizationError("string holds a lone surrogate");
  let out = '"';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch in SHORT_ESCAPES) out += SHORT_ESCAPES[ch];
    else if (code < 0x20) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new CanonicalizationError(`${value} is not a JSON number`);
  // ECMAScript Number::toString is exactly the RFC 8785 number form; -0 is written 0.
  return Object.is(value, -0) ? "0" : String(value);
}

function write(value: Json, depth: number, parts: string[]): void {
  if (depth > MAX_DEPTH) throw new CanonicalizationError(`nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) parts.push("null");
  else if (value === true) parts.push("true");
  else if (value === false) parts.push("false");
  else if (typeof value === "number") parts.push(numberText(value));
  else if (typeof value === "string") parts.push(quote(value));
  else if (Array.isArray(value)) {
    parts.push("[");
    value.forEach((item, index) => {
      if (index) parts.push(",");
      write(item, depth + 1, parts);
    });
    parts.push("]");
  } else if (typeof value === "object") {
    // Default sort compares UTF-16 code units, which is what RFC 8785 asks.
    const keys = Object.keys(value).sort();
    parts.push("{");
    keys.forEach((key, index) => {
      if (index) parts.push(",");
      parts.push(quote(key), ":");
      write(value[key], depth + 1, parts);
    });
    parts.push("}");
  } else {
    throw new CanonicalizationError(`${typeof value} is not a JSON type`);
  }
}

/** The RFC 8785 text of a JSON value. */
export function canonicalText(value: Json): string {
  const parts: string[] = [];
  write(value, 1, parts);
  return parts.join("");
}

/** The RFC 8785 bytes (UTF-8) of a JSON value. */
export function canonicalBytes(value: Json): Uint8Array {
  return new TextEncoder().encode(canonicalText(value));
}

/** SHA-256 with Web Crypto (the browser's, or Node's globalThis.crypto). */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
}

/** ``sha256-jcs/1``: SHA-256 of the RFC 8785 bytes of a release object. */
export async function releaseDigest(release: Json): Promise<Uint8Array> {
  return sha256(canonicalBytes(release));
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text: string): Uint8Array {
  const clean = text.startsWith("0x") ? text.slice(2) : text;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
