/**
 * JSON-RPC to one or several endpoints that must agree.
 *
 * Every read goes to every endpoint the auditor listed; the answers are compared and any
 * difference is a ChainError, never a pass. Reads are pinned to one block (the lowest head
 * among the endpoints), so that nodes a block apart still answer the same question.
 */

export type ChainErrorCode =
  | "rpc.unreachable"
  | "rpc.error"
  | "rpc.disagree"
  | "rpc.wrongChain"
  | "rpc.noCode"
  | "rpc.codeDiffers"
  | "rpc.none";

export class ChainError extends Error {
  constructor(
    readonly code: ChainErrorCode,
    readonly params: Record<string, string> = {},
  ) {
    super(`${code} ${JSON.stringify(params)}`);
  }
}

export const RPC_TIMEOUT_MS = 8000;

let nextId = 1;

export class Rpc {
  constructor(
    readonly endpoints: string[],
    private readonly timeoutMs = RPC_TIMEOUT_MS,
  ) {
    if (!endpoints.length) throw new ChainError("rpc.none");
  }

  /** One endpoint's answer. */
  async callOne(url: string, method: string, params: unknown[]): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new ChainError("rpc.unreachable", { endpoint: url });
    }
    let body: { result?: unknown; error?: { message?: string } };
    try {
      body = await response.json();
    } catch {
      throw new ChainError("rpc.unreachable", { endpoint: url });
    }
    if (body.error || !("result" in body)) {
      throw new ChainError("rpc.error", { endpoint: url, method, message: String(body.error?.message ?? response.status) });
    }
    return body.result;
  }

  /** The same call on every endpoint; their answers must be identical. */
  async call<T>(method: string, params: unknown[]): Promise<T> {
    const answers = await Promise.all(this.endpoints.map((url) => this.callOne(url, method, params)));
    const first = JSON.stringify(answers[0]);
    answers.forEach((answer, index) => {
      if (JSON.stringify(answer) !== first) {
        throw new ChainError("rpc.disagree", { method, endpoint: this.endpoints[index], other: this.endpoints[0] });
      }
    });
    return answers[0] as T;
  }

  /** The block every endpoint has reached, as 0x hex. */
  async commonHead(): Promise<bigint> {
    const heads = await Promise.all(this.endpoints.map((url) => this.callOne(url, "eth_blockNumber", [])));
    return heads.map((h) => BigInt(h as string)).reduce((a, b) => (a < b ? a : b));
  }
}
