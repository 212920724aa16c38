"""``GET /batches/{root}``: a batch's manifest, checked against its root on chain (threat model 4)."""

from __future__ import annotations

import json
from pathlib import Path

from backend.core.merkle import MerkleTree, member_leaf
from backend.service.anchoring import AnchorService, Outcome
from backend.service.intake import read_paths
from tests.api.conftest import AGENCY, ApiEnv, conforms, is_problem, release


def test_a_batch_manifest_is_served_and_re_hashes_to_its_anchored_root(api: ApiEnv, tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps(release(f"ocds-bt{i:04d}-1", f"ocds-bt{i:04d}-1-tender")))
        paths.append(path)
    results = AnchorService(api.backend).anchor(read_paths(paths), agency=AGENCY, batch=True)
    assert {r.outcome for r in results} == {Outcome.ANCHORED}
    root = str(results[0].receipt.to_json()["batch"]["root"])  # type: ignore[union-attr]

    response = api.client.get(f"/batches/{root}")
    conforms(api.client, response, path="/batches/{root}", method="get")
    body = response.json()
    assert body["root"] == root and body["size"] == 3 and body["hashes_to_root"] is True
    assert body["on_chain"]["agency_name"] == AGENCY
    leaves = [
        member_leaf(leaf["ocid"], leaf["release_id"], bytes.fromhex(leaf["digest"][2:]))
        for leaf in body["leaves"]
    ]
    assert "0x" + MerkleTree(leaves).root.hex() == root, "an auditor re-hashes the manifest to the root"
    assert [leaf["release_id"] for leaf in body["leaves"]] == [r.release_id for r in results]


def test_unknown_and_malformed_roots_get_problem_documents(api: ApiEnv) -> None:
    is_problem(api.client.get("/batches/0x" + "ab" * 32), 404)
    is_problem(api.client.get("/batches/not-a-root"), 400)
