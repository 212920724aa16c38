"""Two independent implementations must agree: the page's RFC 8785 canonicalizer and digest
(TypeScript, run under Node) and the Python core's, byte for byte, on the RFC 8785 vectors and on
every release of the real corpus; and the page reads the same notices out of each file."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from backend.core.canonical import canonicalize
from backend.core.digest import document_digest
from backend.core.jsontext import parse_json
from backend.core.merkle import member_leaf, merkle_root
from backend.core.notice import parse_notices
from backend.errors import TenderledgerError
from tests.web.conftest import WEB

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "rfc8785.json"
MERKLE = Path(__file__).resolve().parents[1] / "vectors" / "merkle.json"


def run_page_digests(tsx: Path, *folders: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(tsx), "scripts/digest-check.ts", str(VECTORS), str(MERKLE), *map(str, folders)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.fixture(scope="module")
def vectors_only(tsx: Path) -> dict[str, Any]:
    return run_page_digests(tsx)


def test_rfc8785_object_vectors_agree(vectors_only: dict[str, Any]) -> None:
    vectors = json.loads(VECTORS.read_text(encoding="ascii"))
    assert len(vectors_only["objects"]) == len(vectors["objects"]) > 0
    for vector, page in zip(vectors["objects"], vectors_only["objects"], strict=True):
        python = canonicalize(parse_json(vector["input"].encode()))
        assert python == vector["expected"].encode("utf-8"), vector["source"]
        assert page["canonical"] == vector["expected"], vector["source"]
        assert page["canonical"].encode("utf-8") == python, vector["source"]


def test_rfc8785_number_vectors_agree(vectors_only: dict[str, Any]) -> None:
    vectors = json.loads(VECTORS.read_text(encoding="ascii"))
    for vector, page in zip(vectors["numbers"], vectors_only["numbers"], strict=True):
        value = struct.unpack(">d", bytes.fromhex(vector["ieee754"]))[0]
        if vector["expected"] is None:
            assert isinstance(page["canonical"], dict), vector["source"]  # refused, as Python refuses it
            with pytest.raises(TenderledgerError):
                canonicalize(value)
        else:
            assert page["canonical"] == vector["expected"] == canonicalize(value).decode(), vector["source"]


def test_merkle_tree_heads_agree_with_the_vectors(vectors_only: dict[str, Any]) -> None:
    """The page re-hashes batch manifests to their root: same RFC 9162 tree heads as the vectors."""
    vectors = json.loads(MERKLE.read_text(encoding="utf-8"))
    for name, page_roots in vectors_only["roots"].items():
        leaves = [bytes.fromhex(leaf) for leaf in vectors[name]["leaves"]]
        expected = vectors[name]["roots"]
        known = (
            dict(enumerate(expected))
            if isinstance(expected, list)
            else {int(k): v for k, v in expected.items()}
        )
        assert len(page_roots) == len(leaves) + 1
        digests = all(len(leaf) == 32 for leaf in leaves)  # the core's trees are over 32-byte digests
        for size, root in enumerate(page_roots):
            if digests:
                assert root == merkle_root(leaves[:size]).hex(), (name, size)
            if size in known:
                assert root == known[size], (name, size)
        assert len(known) >= 7


def python_notices(path: Path, name: str) -> tuple[list[dict[str, Any]], bool]:
    """(notices, unreadable) as the Python core reads ``path``."""
    data = path.read_bytes()
    if path.suffix.lower() != ".json":
        digest = document_digest(data)
        return [
            {"source": name, "release_id": "sha256:" + digest.hex(), "digest": "0x" + digest.hex()}
        ], False
    try:
        parsed = parse_notices(parse_json(data), source=name)
    except TenderledgerError:
        return [], True
    return [
        {
            "source": n.source,
            "ocid": n.ocid,
            "release_id": n.release_id,
            "stage": int(n.stage),
            "digest": "0x" + n.digest.hex(),
        }
        for n in parsed.notices
    ], False


def test_every_real_release_has_the_same_digest_in_the_page(tsx: Path, ocds_real: Path) -> None:
    page = run_page_digests(tsx, ocds_real)
    compared = 0
    for entry in page["files"]:
        expected, unreadable = python_notices(ocds_real / entry["file"], entry["file"])
        assert (entry["problem"] is not None) == unreadable, entry["file"]
        if expected and "ocid" not in expected[0]:  # an evidence document: its raw bytes
            assert [(n["release_id"], n["digest"]) for n in entry["notices"]] == [
                (e["release_id"], e["digest"]) for e in expected
            ]
            continue
        assert entry["notices"] == expected, entry["file"]
        leaves = [
            member_leaf(n["ocid"], n["release_id"], bytes.fromhex(n["digest"][2:])).hex() for n in expected
        ]
        assert entry["member_leaves"] == leaves, entry["file"]
        compared += len(expected)
    assert compared >= 100  # the corpus holds over a hundred releases: all of them were compared
