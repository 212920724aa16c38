/** Which RPC endpoints the page asks, and the ledger they must show. */
import { loadDeployment } from "./api";
import { type Deployment, LedgerView } from "./chain/ledger";
import { ChainError, Rpc } from "./chain/rpc";

const ENDPOINTS_KEY = "tenderledger.endpoints";

let deployment: Deployment | null = null;

export async function getDeployment(): Promise<Deployment> {
  if (!deployment) deployment = await loadDeployment();
  return deployment;
}

/** The endpoints the auditor chose, else the deployment's default. */
export function chosenEndpoints(fallback: string | null): string[] {
  const saved = localStorage.getItem(ENDPOINTS_KEY);
  const list = saved ? (JSON.parse(saved) as string[]) : [];
  if (list.length) return list;
  return fallback ? [fallback] : [];
}

export function saveEndpoints(list: string[]): void {
  const clean = list.map((s) => s.trim()).filter(Boolean);
  if (clean.length) localStorage.setItem(ENDPOINTS_KEY, JSON.stringify(clean));
  else localStorage.removeItem(ENDPOINTS_KEY);
}

/** A fresh view of the ledger: chain id and code checked on every endpoint, block pinned. */
export async function openLedger(): Promise<LedgerView> {
  const found = await getDeployment();
  const endpoints = chosenEndpoints(found.rpc_url);
  if (!endpoints.length) throw new ChainError("rpc.none");
  return LedgerView.open(new Rpc(endpoints), found);
}
