"""Notice stages, numbered exactly as the ledger contract stores them (``Stages.sol``).

Values 1-15 follow the OCDS 1.1 ``releaseTag`` codelist in lifecycle order (without
``compiled``, which is not a notice); 16 marks an evidence document. The numbers are
part of every seal and stored record: never reorder them.
"""

from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    """Lifecycle phases, in lifecycle order; evidence documents stand outside them."""

    DOCUMENT = 0
    PLANNING = 1
    TENDER = 2
    AWARD = 3
    CONTRACT = 4  # contract, its amendments, implementation and termination


class Stage(IntEnum):
    PLANNING = 1
    PLANNING_UPDATE = 2
    TENDER = 3
    TENDER_AMENDMENT = 4
    TENDER_UPDATE = 5
    TENDER_CANCELLATION = 6
    AWARD = 7
    AWARD_UPDATE = 8
    AWARD_CANCELLATION = 9
    CONTRACT = 10
    CONTRACT_UPDATE = 11
    CONTRACT_AMENDMENT = 12
    IMPLEMENTATION = 13
    IMPLEMENTATION_UPDATE = 14
    CONTRACT_TERMINATION = 15
    DOCUMENT = 16

    @property
    def tag(self) -> str:
        """The OCDS releaseTag code (``document`` for evidence documents)."""
        return _TAG_BY_STAGE[self]

    @classmethod
    def from_tag(cls, tag: str) -> Stage | None:
        """The stage of an OCDS releaseTag code, or None when the code is not standard."""
        return _STAGE_BY_TAG.get(tag)

    @property
    def is_tender(self) -> bool:
        """tender, tenderAmendment, tenderUpdate: they declare the submission deadline."""
        return Stage.TENDER <= self <= Stage.TENDER_UPDATE

    @property
    def is_award_or_contract(self) -> bool:
        """Stages the ledger refuses before the deadline or after a cancellation."""
        return Stage.AWARD <= self <= Stage.CONTRACT_TERMINATION

    @property
    def phase(self) -> Phase:
        """The lifecycle phase this stage belongs to: the one table every rule reads."""
        if self is Stage.DOCUMENT:
            return Phase.DOCUMENT
        if self < Stage.TENDER:
            return Phase.PLANNING
        if self < Stage.AWARD:
            return Phase.TENDER
        if self < Stage.CONTRACT:
            return Phase.AWARD
        return Phase.CONTRACT

    @property
    def amends_or_cancels(self) -> bool:
        """Stages that make earlier notices of the process superseded."""
        return self in _SUPERSEDING


_TAG_BY_STAGE: dict[Stage, str] = {
    Stage.PLANNING: "planning",
    Stage.PLANNING_UPDATE: "planningUpdate",
    Stage.TENDER: "tender",
    Stage.TENDER_AMENDMENT: "tenderAmendment",
    Stage.TENDER_UPDATE: "tenderUpdate",
    Stage.TENDER_CANCELLATION: "tenderCancellation",
    Stage.AWARD: "award",
    Stage.AWARD_UPDATE: "awardUpdate",
    Stage.AWARD_CANCELLATION: "awardCancellation",
    Stage.CONTRACT: "contract",
    Stage.CONTRACT_UPDATE: "contractUpdate",
    Stage.CONTRACT_AMENDMENT: "contractAmendment",
    Stage.IMPLEMENTATION: "implementation",
    Stage.IMPLEMENTATION_UPDATE: "implementationUpdate",
    Stage.CONTRACT_TERMINATION: "contractTermination",
    Stage.DOCUMENT: "document",
}
_STAGE_BY_TAG: dict[str, Stage] = {
    tag: stage for stage, tag in _TAG_BY_STAGE.items() if stage != Stage.DOCUMENT
}

_SUPERSEDING = frozenset(
    {
        Stage.PLANNING_UPDATE,
        Stage.TENDER_AMENDMENT,
        Stage.TENDER_UPDATE,
        Stage.TENDER_CANCELLATION,
        Stage.AWARD_UPDATE,
        Stage.AWARD_CANCELLATION,
        Stage.CONTRACT_UPDATE,
        Stage.CONTRACT_AMENDMENT,
        Stage.IMPLEMENTATION_UPDATE,
        Stage.CONTRACT_TERMINATION,
    }
)
