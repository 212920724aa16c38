"""Anchoring input that holds several versions of one release, in a fixed order.

Publishers sometimes re-publish an (ocid, release id) with other content, which OCDS
forbids: the ledger anchors one version and refuses the others (``DigestConflict``).
Which one must not depend on how transactions happen to overlap in flight, so the first
version in publication order goes first, alone: the notices are anchored in rounds,
the n-th version of each (ocid, release id) in round n, each round after the one
before it has settled. Exact copies of a version travel with it. Input without
conflicting versions (nearly all) is one round, as before. Merkle batches need no
rounds: a batch's leaves keep publication order, and the first anchor wins there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.service.intake import Intake

if TYPE_CHECKING:
    from backend.service.anchoring import AnchorResult, AnchorService


def version_rounds(intake: Intake) -> list[Intake]:
    """``intake`` split so that no round holds two versions (digests) of one (ocid, release id);
    each round keeps publication order, and shares ``intake``'s documents."""
    versions: dict[tuple[str, str], list[bytes]] = {}
    rounds: list[Intake] = []
    for item in intake.notices:
        seen = versions.setdefault(item.notice.key, [])
        if item.notice.digest not in seen:
            seen.append(item.notice.digest)
        index = seen.index(item.notice.digest)
        while len(rounds) <= index:
            rounds.append(Intake(documents=intake.documents))
        rounds[index].notices.append(item)
    return rounds


def anchor_by_version(service: AnchorService, intake: Intake, **options: Any) -> list[AnchorResult]:
    """``service.anchor(intake, **options)``, round by round (:func:`version_rounds`); one result per
    notice of ``intake``, in its order."""
    rounds = [intake] if options.get("batch") else version_rounds(intake)
    if len(rounds) <= 1:
        return service.anchor(intake, **options)
    by_item: dict[int, AnchorResult] = {}
    for part in rounds:
        for item, result in zip(part.notices, service.anchor(part, **options), strict=True):
            by_item[id(item)] = result
    return [by_item[id(item)] for item in intake.notices]
