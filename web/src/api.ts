/**
 * What the page asks our server for. None of it decides a verdict: the deployment names the
 * chain and the code the ledger must have (both checked against the chain), manifests count
 * only when they re-hash to a root on chain, originals only when they hash to the anchored digest.
 */
import type { Deployment } from "./chain/ledger";

export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly advice?: string,
  ) {
    super(detail);
  }
}

async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(15000) });
  } catch {
    throw new ServerError(0, "unreachable");
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const problem = (body ?? {}) as { detail?: string; title?: string; advice?: string };
    throw new ServerError(response.status, problem.detail ?? problem.title ?? String(response.status), problem.advice);
  }
  return body as T;
}

const DEPLOYMENT_KEY = "tenderledger.deployment";

/** The deployment from the server, kept for when the server is gone (verification needs only the chain). */
export async function loadDeployment(): Promise<Deployment> {
  try {
    const deployment = await getJson<Deployment>("/deployment");
    localStorage.setItem(DEPLOYMENT_KEY, JSON.stringify(deployment));
    return deployment;
  } catch (error) {
    const kept = localStorage.getItem(DEPLOYMENT_KEY);
    if (kept) return JSON.parse(kept) as Deployment;
    throw error;
  }
}

export interface ManifestLeaf {
  index: number;
  ocid: string;
  release_id: string;
  key: string;
  digest: string;
  stage_code: number;
}

export async function batchManifest(root: string): Promise<ManifestLeaf[] | null> {
  try {
    return (await getJson<{ leaves: ManifestLeaf[] }>(`/batches/${root}`)).leaves;
  } catch (error) {
    if (error instanceof ServerError && error.status === 404) return null;
    throw error;
  }
}

export interface StoredOriginal {
  digest: string;
  source: string;
  pointer: string;
}

export async function storedOriginal(digest: string): Promise<StoredOriginal | null> {
  try {
    return await getJson<StoredOriginal>(`/originals/${digest}`);
  } catch (error) {
    if (error instanceof ServerError && error.status === 404) return null;
    throw error;
  }
}

export interface ProcessHit {
  ocid: string;
  buyer: string | null;
  title: string | null;
  release_ids: string[];
  stages: string[];
}

export async function searchProcesses(query: string): Promise<ProcessHit[]> {
  return (await getJson<{ processes: ProcessHit[] }>(`/search?q=${encodeURIComponent(query)}`)).processes;
}

export interface RedFlag {
  code: string;
  severity: "info" | "warning" | "high";
  release_id: string;
  message: string;
}

export interface ServerTimeline {
  ocid: string;
  timeline: { release_id: string; stage: string; digest: string; status: string; error?: string }[];
  red_flags: RedFlag[];
}

export async function processTimeline(ocid: string): Promise<ServerTimeline | null> {
  try {
    return await getJson<ServerTimeline>(`/processes/${encodeURIComponent(ocid)}`);
  } catch (error) {
    if (error instanceof ServerError && error.status === 404) return null;
    throw error;
  }
}

// ---------------------------------------------------------------- agency (bearer token)

export interface OutboxItem {
  digest: string;
  ocid: string;
  release_id: string;
  status: string;
  error_name: string | null;
}

function bearer(token: string): HeadersInit {
  return { Authorization: `Bearer ${token}` };
}

export async function agencyOutbox(token: string): Promise<{ agency: string; items: OutboxItem[]; ocids: string[] }> {
  return getJson("/agency/outbox", { headers: bearer(token) });
}

export interface SubmitOutcome {
  status: number;
  body: {
    notices?: { digest: string; ocid: string; release_id: string; outcome: string; contract_error?: { name: string; advice: string | null } | null }[];
    detail?: string;
    advice?: string;
    contract_error?: { name: string; advice: string | null; message: string | null } | null;
  };
}

export async function submitNotice(token: string, body: Uint8Array): Promise<SubmitOutcome> {
  let response: Response;
  try {
    response = await fetch("/notices", {
      method: "POST",
      headers: { ...bearer(token), "Content-Type": "application/json" },
      body: body as BodyInit,
      signal: AbortSignal.timeout(60000),
    });
  } catch {
    throw new ServerError(0, "unreachable");
  }
  let parsed: SubmitOutcome["body"] = {};
  try {
    parsed = await response.json();
  } catch {
    parsed = {};
  }
  return { status: response.status, body: parsed };
}

export interface NoticeState {
  digest: string;
  status: string;
  ocid: string;
  release_id: string;
  receipt: Record<string, unknown> | null;
  contract_error: { name: string; advice: string | null; message: string | null } | null;
}

export async function noticeState(digest: string): Promise<NoticeState> {
  return getJson<NoticeState>(`/notices/${digest}`);
}

// ---------------------------------------------------------------- files offered to try

/** Names of the files the server offers to try (the demo's auditor copies); none on error. */
export async function sampleFiles(): Promise<string[]> {
  try {
    return (await getJson<{ files: string[] }>("/samples")).files;
  } catch {
    return [];
  }
}

export async function sampleBytes(name: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(`/samples/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(15000) });
  } catch {
    throw new ServerError(0, "unreachable");
  }
  if (!response.ok) throw new ServerError(response.status, String(response.status));
  return new Uint8Array(await response.arrayBuffer());
}
