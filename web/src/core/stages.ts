/** Notice stages, numbered as the ledger stores them (contracts/src/Stages.sol, backend/core/stages.py). */

export const STAGE_TAGS = [
  "",
  "planning",
  "planningUpdate",
  "tender",
  "tenderAmendment",
  "tenderUpdate",
  "tenderCancellation",
  "award",
  "awardUpdate",
  "awardCancellation",
  "contract",
  "contractUpdate",
  "contractAmendment",
  "implementation",
  "implementationUpdate",
  "contractTermination",
  "document",
] as const;

export const Stage = {
  PLANNING: 1,
  TENDER: 3,
  TENDER_UPDATE: 5,
  TENDER_CANCELLATION: 6,
  AWARD: 7,
  CONTRACT: 10,
  CONTRACT_TERMINATION: 15,
  DOCUMENT: 16,
} as const;

const SUPERSEDING = new Set([2, 4, 5, 6, 8, 9, 11, 12, 14, 15]);

export function stageTag(stage: number): string {
  return STAGE_TAGS[stage] ?? `stage ${stage}`;
}

/** Lifecycle phase: 0 document, 1 planning, 2 tender, 3 award, 4 contract. */
export function phase(stage: number): number {
  if (stage === Stage.DOCUMENT) return 0;
  if (stage < Stage.TENDER) return 1;
  if (stage < Stage.AWARD) return 2;
  if (stage < Stage.CONTRACT) return 3;
  return 4;
}

export function amendsOrCancels(stage: number): boolean {
  return SUPERSEDING.has(stage);
}

const SYNONYMS: Record<string, number> = {
  priorinformationnotice: 1,
  contractnotice: 3,
  tendernotice: 3,
  awardnotice: 7,
  contractawardnotice: 7,
};

const SECTIONS: [string, number][] = [
  ["contracts", 10],
  ["awards", 7],
  ["tender", 3],
  ["planning", 1],
];

function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

/** The stage of a release as backend/core/release_stage.py reads it; null when none, "compiled" for compiled. */
export function readStage(release: Record<string, unknown>): number | null | "compiled" {
  const raw = release.tag;
  const tags: string[] =
    typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw.filter((t): t is string => typeof t === "string") : [];
  if (tags.includes("compiled")) return "compiled";
  const stages: number[] = [];
  for (const tag of tags) {
    const exact = STAGE_TAGS.indexOf(tag as (typeof STAGE_TAGS)[number]);
    if (exact > 0 && exact < Stage.DOCUMENT) {
      stages.push(exact);
      continue;
    }
    const key = tag.trim().toLowerCase();
    const loose = STAGE_TAGS.findIndex((t, i) => i > 0 && i < Stage.DOCUMENT && t.toLowerCase() === key);
    if (loose > 0) stages.push(loose);
    else if (key in SYNONYMS) stages.push(SYNONYMS[key]);
  }
  if (stages.length) return Math.max(...stages);
  for (const [section, stage] of SECTIONS) if (truthy(release[section])) return stage;
  return null;
}
