"""The lifecycle stage of a release, from its ``tag`` as published or, failing that, its content.

Rules, in order (docs/messy-data.md has the table and the reasons):

1. ``tag`` is read as published: a list of strings; a bare string is read as a
   one-element list (warning); anything else, and non-string items, are ignored
   (warning).
2. A release tagged ``compiled`` is not a notice: it merges many releases into a
   snapshot that nobody published as such. The caller skips it.
3. Each tag is looked up among the OCDS 1.1 ``releaseTag`` codes, then, with a
   warning, case-insensitively and in :data:`TAG_SYNONYMS` (a few well-known
   non-standard names). Other tags are ignored with a warning.
4. The stage is the latest (numerically largest) stage among the tags read.
5. When no tag gives a stage, the stage is inferred from the sections present
   (contracts > awards > tender > planning), with a warning. A release with none
   of them has no stage: the caller skips it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.core.ocds_fields import json_type
from backend.core.stages import Stage

COMPILED_TAG = "compiled"

TAG_SYNONYMS: Mapping[str, Stage] = {
    # EU/TED vocabulary. A TED "contract notice" is the call for competition, i.e.
    # the tender, not the contract: mapping it by its English words would be wrong.
    "priorinformationnotice": Stage.PLANNING,
    "contractnotice": Stage.TENDER,
    "tendernotice": Stage.TENDER,
    "awardnotice": Stage.AWARD,
    "contractawardnotice": Stage.AWARD,
}
"""Non-standard tags read as a stage (keys lower-case); each use adds a warning."""

# Latest section first: the first one present gives the inferred stage.
_SECTIONS: tuple[tuple[str, Stage], ...] = (
    ("contracts", Stage.CONTRACT),
    ("awards", Stage.AWARD),
    ("tender", Stage.TENDER),
    ("planning", Stage.PLANNING),
)

_STANDARD_BY_LOWER: Mapping[str, Stage] = {
    stage.tag.lower(): stage for stage in Stage if stage is not Stage.DOCUMENT
}


@dataclass(frozen=True, slots=True)
class StageReading:
    """What the tags (and perhaps the sections) of one release say."""

    stage: Stage | None
    """None when nothing gives a stage, or the release is compiled."""
    tags: tuple[str, ...]
    """The string tags, in published order."""
    compiled: bool
    warnings: tuple[str, ...]


def read_stage(release: Mapping[str, Any]) -> StageReading:
    """Read the stage of a release as described in the module docstring; never raises."""
    warnings: list[str] = []
    tags = _published_tags(release.get("tag"), "tag" in release, warnings)
    if COMPILED_TAG in tags:
        return StageReading(None, tags, True, tuple(warnings))
    stages = [stage for tag in tags if (stage := _tag_stage(tag, warnings)) is not None]
    if stages:
        return StageReading(max(stages), tags, False, tuple(warnings))
    inferred = _stage_from_sections(release)
    if inferred is not None:
        warnings.append(f"no lifecycle tag: stage {inferred.tag!r} inferred from the sections present")
    return StageReading(inferred, tags, False, tuple(warnings))


def _published_tags(value: object, present: bool, warnings: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        warnings.append(f"tag is a bare string {value!r}, read as a one-element list")
        return (value,)
    if isinstance(value, list):
        strings = tuple(item for item in value if isinstance(item, str))
        if len(strings) != len(value):
            warnings.append("tag holds non-string items, ignored")
        if not value:
            warnings.append("tag is an empty list")
        return strings
    if not present:
        warnings.append("release has no tag")
    else:
        warnings.append(f"tag is {json_type(value)} instead of a list, ignored")
    return ()


def _tag_stage(tag: str, warnings: list[str]) -> Stage | None:
    if tag == COMPILED_TAG:
        return None
    standard = Stage.from_tag(tag)
    if standard is not None:
        return standard
    key = tag.strip().lower()
    if key in _STANDARD_BY_LOWER:
        stage = _STANDARD_BY_LOWER[key]
        warnings.append(f"tag {tag!r} is not spelled as in the codelist, read as {stage.tag!r}")
        return stage
    if key in TAG_SYNONYMS:
        stage = TAG_SYNONYMS[key]
        warnings.append(f"non-standard tag {tag!r} read as {stage.tag!r}")
        return stage
    warnings.append(f"non-standard tag {tag!r} ignored")
    return None


def _stage_from_sections(release: Mapping[str, Any]) -> Stage | None:
    for section, stage in _SECTIONS:
        if release.get(section):  # an empty object or list says nothing
            return stage
    return None
