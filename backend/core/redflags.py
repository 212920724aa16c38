"""Red flags in one procurement process's timeline, for auditors.

A red flag is a reason to look closer, never a verdict. The ledger enforces some
lifecycle rules on chain, but not for Merkle-batch content nor for processes
whose tender never reached the ledger, and it cannot see content; these rules
run off chain on whatever the ledger holds. docs/red-flags.md lists each code,
its severity and its reason.

The timeline is given in ledger order (the order the notices were anchored; for
notices not yet anchored, :func:`backend.core.notice.publication_order`). Rules
about "before" and "after" in the lifecycle use that order; rules about time
use the dates. Flags come out rule by rule in the order of :class:`FlagCode`,
and within a rule in timeline order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from backend.core.notice import Notice
from backend.core.stages import Stage

DAY = 86_400

MIN_TENDER_PERIOD_SECONDS = 10 * DAY
"""Shorter submission periods are flagged. Ten days is the shortest minimum of the
EU directives (accelerated restricted procedure); most laws ask for more."""

BACKFILL_THRESHOLD_SECONDS = 7 * DAY
"""A notice anchored more than this after its release date was backfilled: the
anchor proves it existed then, not that it was published unchanged on its date.
A weekly batch still passes."""

FUTURE_DATE_TOLERANCE_SECONDS = DAY
"""A release dated this much later than its anchoring block is dated in the future.
A day absorbs clock skew and local times published without an offset."""


class Severity(StrEnum):
    """How hard an auditor should look."""

    INFO = "info"
    WARNING = "warning"
    HIGH = "high"


class FlagCode(StrEnum):
    """Red-flag codes, in the order the rules run."""

    OPENED_AT_LATER_STAGE = "opened_at_later_stage"
    AWARD_BEFORE_DEADLINE = "award_before_deadline"
    NOTICE_AFTER_CANCELLATION = "notice_after_cancellation"
    DEADLINE_MOVED_AFTER_PASSED = "deadline_moved_after_passed"
    SHORT_TENDER_PERIOD = "short_tender_period"
    BACKFILLED = "backfilled"
    DATED_AFTER_ANCHORING = "dated_after_anchoring"
    DATES_OUT_OF_ORDER = "dates_out_of_lifecycle_order"
    AMENDS_UNKNOWN_RELEASE = "amends_unknown_release"
    AMENDMENT_NAMES_NOTHING = "amendment_names_nothing"
    REPUBLISHED_WITH_OTHER_CONTENT = "republished_with_other_content"
    SINGLE_BIDDER = "single_bidder"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One notice of a process as the ledger sees it."""

    release_id: str
    stage: Stage
    published_at: int | None
    """Release date, unix seconds UTC."""
    deadline: int | None
    """Declared submission deadline, unix seconds UTC."""
    anchored_at: int | None
    """Timestamp of the block that anchored it; None when not anchored (yet)."""
    in_batch: bool
    """Anchored inside a Merkle batch, where the chain enforced no lifecycle rule."""
    digest: bytes
    amends_release_id: str | None = None
    release: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The release content, for rules that read it (single bidder); optional."""

    @classmethod
    def from_notice(
        cls, notice: Notice, *, anchored_at: int | None = None, in_batch: bool = False
    ) -> TimelineEntry:
        """The entry of a parsed notice (documents keep no release content)."""
        return cls(
            release_id=notice.release_id,
            stage=notice.stage,
            published_at=notice.published_at,
            deadline=notice.deadline,
            anchored_at=anchored_at,
            in_batch=in_batch,
            digest=notice.digest,
            amends_release_id=notice.amends_release_id,
            release=None if notice.stage is Stage.DOCUMENT else notice.release,
        )


@dataclass(frozen=True, slots=True)
class RedFlag:
    """One finding: which rule, how serious, on which release, and a sentence for people."""

    code: FlagCode
    severity: Severity
    release_id: str
    message: str


def red_flags(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    """Every red flag of one process's timeline (ledger order); empty when nothing stands out."""
    return [
        *_opened_at_later_stage(timeline),
        *_award_before_deadline(timeline),
        *_after_cancellation(timeline),
        *_deadline_moved_after_passed(timeline),
        *_short_tender_period(timeline),
        *_anchoring_delay(timeline),
        *_dates_out_of_order(timeline),
        *_amends_unknown_release(timeline),
        *_amendment_names_nothing(timeline),
        *_republished(timeline),
        *_single_bidder(timeline),
    ]


# ---------------------------------------------------------------- rules


def _opened_at_later_stage(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    lifecycle = [entry for entry in timeline if entry.stage is not Stage.DOCUMENT]
    if not lifecycle or lifecycle[0].stage < Stage.AWARD:
        return []
    first = lifecycle[0]
    later = any(entry.stage < Stage.AWARD for entry in lifecycle)
    return [
        RedFlag(
            FlagCode.OPENED_AT_LATER_STAGE,
            Severity.WARNING,
            first.release_id,
            f"process opened at stage {first.stage.tag!r}: no planning or tender notice before it"
            + (" (one was anchored only later)" if later else " on the ledger"),
        )
    ]


def _award_before_deadline(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    flags = []
    for index, entry in enumerate(timeline):
        if not entry.stage.is_award_or_contract:
            continue
        deadline = _deadline_in_force(timeline, index)
        if deadline is None:
            continue
        moments = []
        if entry.published_at is not None and entry.published_at < deadline:
            moments.append(f"dated {_iso(entry.published_at)}")
        if entry.anchored_at is not None and entry.anchored_at < deadline:
            moments.append(f"anchored at {_iso(entry.anchored_at)}")
        if moments:
            why = " (Merkle batch: not checked on chain)" if entry.in_batch else ""
            flags.append(
                RedFlag(
                    FlagCode.AWARD_BEFORE_DEADLINE,
                    Severity.HIGH,
                    entry.release_id,
                    f"{entry.stage.tag} {' and '.join(moments)}, before the submission deadline "
                    f"{_iso(deadline)}{why}",
                )
            )
    return flags


def _deadline_in_force(timeline: Sequence[TimelineEntry], index: int) -> int | None:
    """The last tender deadline before ``index``; else the last anywhere; else the entry's own."""
    declared = [
        (i, e.deadline) for i, e in enumerate(timeline) if e.stage.is_tender and e.deadline is not None
    ]
    before = [deadline for i, deadline in declared if i < index]
    if before:
        return before[-1]
    if declared:
        return declared[-1][1]
    return timeline[index].deadline  # cumulative releases repeat the tender section


def _after_cancellation(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    cancelled = next((i for i, e in enumerate(timeline) if e.stage is Stage.TENDER_CANCELLATION), None)
    if cancelled is None:
        return []
    cancellation = timeline[cancelled].release_id
    return [
        RedFlag(
            FlagCode.NOTICE_AFTER_CANCELLATION,
            Severity.HIGH if entry.stage.is_award_or_contract else Severity.WARNING,
            entry.release_id,
            f"{entry.stage.tag} notice after the tender cancellation {cancellation!r}",
        )
        for entry in timeline[cancelled + 1 :]
        if entry.stage not in (Stage.DOCUMENT, Stage.TENDER_CANCELLATION)
    ]


def _deadline_moved_after_passed(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    flags = []
    current: int | None = None
    for entry in timeline:
        if not entry.stage.is_tender or entry.deadline is None:
            continue
        if current is not None and entry.deadline != current:
            moments = []
            if entry.published_at is not None and entry.published_at > current:
                moments.append(f"dated {_iso(entry.published_at)}")
            if entry.anchored_at is not None and entry.anchored_at > current:
                moments.append(f"anchored at {_iso(entry.anchored_at)}")
            if moments:
                flags.append(
                    RedFlag(
                        FlagCode.DEADLINE_MOVED_AFTER_PASSED,
                        Severity.HIGH,
                        entry.release_id,
                        f"deadline moved from {_iso(current)} to {_iso(entry.deadline)} by a "
                        f"{entry.stage.tag} {' and '.join(moments)}, after it had passed",
                    )
                )
        current = entry.deadline
    return flags


def _short_tender_period(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    tenders = [entry for entry in timeline if entry.stage.is_tender]
    opening = next((entry.published_at for entry in tenders if entry.published_at is not None), None)
    if opening is None:
        return []
    flags = []
    seen: set[int] = set()
    for entry in tenders:
        if entry.deadline is None or entry.deadline in seen:
            continue
        seen.add(entry.deadline)
        period = entry.deadline - opening
        if period <= 0:
            flags.append(
                RedFlag(
                    FlagCode.SHORT_TENDER_PERIOD,
                    Severity.HIGH,
                    entry.release_id,
                    f"submission deadline {_iso(entry.deadline)} is not after the tender's publication "
                    f"{_iso(opening)}",
                )
            )
        elif period < MIN_TENDER_PERIOD_SECONDS:
            flags.append(
                RedFlag(
                    FlagCode.SHORT_TENDER_PERIOD,
                    Severity.WARNING,
                    entry.release_id,
                    f"tender period of {_duration(period)} (published {_iso(opening)}, deadline "
                    f"{_iso(entry.deadline)}), under {MIN_TENDER_PERIOD_SECONDS // DAY} days",
                )
            )
    return flags


def _anchoring_delay(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    flags = []
    for entry in timeline:
        if entry.anchored_at is None or entry.published_at is None:
            continue
        delay = entry.anchored_at - entry.published_at
        if delay > BACKFILL_THRESHOLD_SECONDS:
            flags.append(
                RedFlag(
                    FlagCode.BACKFILLED,
                    Severity.INFO,
                    entry.release_id,
                    f"anchored {_duration(delay)} after its release date {_iso(entry.published_at)}: "
                    "the anchor does not vouch for what was published on that date",
                )
            )
        elif -delay > FUTURE_DATE_TOLERANCE_SECONDS:
            flags.append(
                RedFlag(
                    FlagCode.DATED_AFTER_ANCHORING,
                    Severity.WARNING,
                    entry.release_id,
                    f"release dated {_iso(entry.published_at)}, {_duration(-delay)} after the block "
                    f"that anchored it ({_iso(entry.anchored_at)})",
                )
            )
    return flags


def _dates_out_of_order(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    dated = [
        (entry, entry.published_at)
        for entry in timeline
        if entry.stage is not Stage.DOCUMENT and entry.published_at is not None
    ]
    flags = []
    for entry, date in dated:
        # The latest-dated notice of an earlier phase that is dated after this one.
        later_earlier = [
            (other_date, other)
            for other, other_date in dated
            if other.stage.phase < entry.stage.phase and other_date > date
        ]
        if later_earlier:
            other_date, other = max(later_earlier, key=lambda pair: pair[0])
            flags.append(
                RedFlag(
                    FlagCode.DATES_OUT_OF_ORDER,
                    Severity.WARNING,
                    entry.release_id,
                    f"{entry.stage.tag} dated {_iso(date)}, before the {other.stage.tag} "
                    f"{other.release_id!r} dated {_iso(other_date)}",
                )
            )
    return flags


def _amends_unknown_release(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    known = {entry.release_id for entry in timeline}
    return [
        RedFlag(
            FlagCode.AMENDS_UNKNOWN_RELEASE,
            Severity.WARNING,
            entry.release_id,
            f"amends release {entry.amends_release_id!r}, which is not on the ledger for this process",
        )
        for entry in timeline
        if entry.amends_release_id is not None and entry.amends_release_id not in known
    ]


def _amendment_names_nothing(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    # The ledger accepts such an amendment (real publishers often omit the link), but it
    # cannot check that the amended release is on the ledger: say so.
    return [
        RedFlag(
            FlagCode.AMENDMENT_NAMES_NOTHING,
            Severity.INFO,
            entry.release_id,
            f"{entry.stage.tag} names no release it amends (amendsReleaseID): the ledger could not "
            "check that the amended release is on it",
        )
        for entry in timeline
        if entry.stage in (Stage.TENDER_AMENDMENT, Stage.CONTRACT_AMENDMENT)
        and entry.amends_release_id is None
    ]


def _republished(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    first_digest: dict[str, bytes] = {}
    flags = []
    for entry in timeline:
        original = first_digest.setdefault(entry.release_id, entry.digest)
        if entry.digest != original:
            flags.append(
                RedFlag(
                    FlagCode.REPUBLISHED_WITH_OTHER_CONTENT,
                    Severity.HIGH,
                    entry.release_id,
                    f"release id re-published with other content (digest {entry.digest.hex()[:16]}..., "
                    f"first seen as {original.hex()[:16]}...): OCDS releases are immutable",
                )
            )
    return flags


def _single_bidder(timeline: Sequence[TimelineEntry]) -> list[RedFlag]:
    """The latest release that says how many bids there were decides."""
    for entry in reversed(timeline):
        count = _bid_count(entry.release)
        if count is None:
            continue
        if count != 1:
            return []
        return [
            RedFlag(
                FlagCode.SINGLE_BIDDER,
                Severity.WARNING,
                entry.release_id,
                "only one bid was received (tender.numberOfTenderers or bids.details)",
            )
        ]
    return []


def _bid_count(release: Mapping[str, Any] | None) -> int | None:
    """tender.numberOfTenderers when an integer, else the number of bids.details; None when unknown."""
    if release is None:
        return None
    tender = release.get("tender")
    if isinstance(tender, dict):
        number = tender.get("numberOfTenderers")
        if isinstance(number, int) and not isinstance(number, bool):
            return number
    bids = release.get("bids")
    if isinstance(bids, dict) and isinstance(bids.get("details"), list):
        return len(bids["details"])
    return None


# ---------------------------------------------------------------- wording


def _iso(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # entries built from chain data can hold any uint64
        return f"@{timestamp}"


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, DAY)
    hours = rest // 3600
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{hours} h {rest % 3600 // 60} min"
