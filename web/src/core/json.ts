/**
 * Strict JSON reading, as the Python core reads it (backend/core/jsontext.py):
 * duplicate keys, lone surrogates, numbers a double cannot hold and integers beyond
 * +-(2**53 - 1) are refused with the position of the problem, never silently changed.
 */

export const MAX_DEPTH = 256;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class JsonReadError extends Error {
  constructor(
    readonly problem: string,
    readonly offset: number,
  ) {
    super(`${problem} (character ${offset})`);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Parse ``text`` strictly; throws JsonReadError. */
export function parseStrictJson(text: string): Json {
  let pos = 0;

  const skip = (): void => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };

  const fail = (problem: string): never => {
    throw new JsonReadError(problem, pos);
  };

  const readString = (): string => {
    STRING.lastIndex = pos;
    const match = STRING.exec(text);
    if (!match) fail("malformed string");
    const raw = match![0];
    pos = STRING.lastIndex;
    const value = JSON.parse(raw) as string;
    if (!value.isWellFormed()) fail("string holds a lone surrogate");
    return value;
  };

  const readNumber = (): number => {
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (!match) fail("unexpected character");
    const raw = match![0];
    const value = Number(raw);
    if (!Number.isFinite(value)) fail(`number ${raw} does not fit a double`);
    if (/^-?[0-9]+$/.test(raw) && Math.abs(value) > MAX_SAFE) {
      fail(`integer ${raw} is beyond +-(2**53 - 1), which a JSON number holds exactly`);
    }
    pos = NUMBER.lastIndex;
    return value;
  };

  const readValue = (depth: number): Json => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    skip();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const obj: { [key: string]: Json } = {};
      const seen = new Set<string>();
      skip();
      if (text[pos] === "}") {
        pos++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[pos] !== '"') fail("expected a key");
        const key = readString();
        if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key.slice(0, 80))}`);
        seen.add(key);
        skip();
        if (text[pos] !== ":") fail("expected ':'");
        pos++;
        Object.defineProperty(obj, key, { value: readValue(depth + 1), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        if (text[pos] === "}") {
          pos++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      pos++;
      const array: Json[] = [];
      skip();
      if (text[pos] === "]") {
        pos++;
        return array;
      }
      for (;;) {
        array.push(readValue(depth + 1));
        skip();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        if (text[pos] === "]") {
          pos++;
          return array;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return readString();
    if (text.startsWith("true", pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith("false", pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith("null", pos)) {
      pos += 4;
      return null;
    }
    if (c === undefined) fail("unexpected end of input");
    return readNumber();
  };

  if (text.charCodeAt(0) === 0xfeff) fail("byte order mark before the JSON text");
  const value = readValue(1);
  skip();
  if (pos !== text.length) fail("extra data after the JSON value");
  return value;
}

/** Decode strict UTF-8 (invalid bytes are refused, as the Python core refuses them). */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
