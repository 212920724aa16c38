// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title ViewsTest
/// @notice Read functions: zeros for anything unknown, the exact packed fields for anything
///         anchored, and the documented notice key.
contract ViewsTest is LedgerTestBase {
    INoticeLedger.NoticeInput internal planning;
    INoticeLedger.NoticeInput internal document;

    function setUp() public override {
        super.setUp();
        planning = notice("planning", Stages.PLANNING, 0);
        document = notice("ocds-213czf-000-00002", "evidence-1", Stages.DOCUMENT, sha256("%PDF-1.7 ..."), 0);
    }

    // ------------------------------------------------------------ unknown

    function test_Views_ReturnZerosForUnknown() public view {
        assertNoRecord(ledger.recordByKey(keyOf(planning)));
        assertNoRecord(ledger.recordByDigest(planning.digest));
        assertNoRecord(ledger.recordByKey(bytes32(0)));
        assertNoRecord(ledger.recordByDigest(bytes32(0)));

        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(p.agency) + uint256(p.deadline) + uint256(p.notices), 0, "empty process");
        assertFalse(p.hasTender || p.cancelled, "no flags");

        INoticeLedger.BatchRecord memory b = ledger.batchRecord(sha256("no such root"));
        assertEq(b.signer, address(0), "batch signer");
        assertEq(uint256(b.agency) + uint256(b.blockNumber) + uint256(b.timestamp), 0, "empty batch");

        (uint32 agency, uint40 addedBlock, uint40 revokedBlock) = ledger.sealKey(strangerKey);
        assertEq(uint256(agency) + uint256(addedBlock) + uint256(revokedBlock), 0, "unknown key");
        assertEq(uint256(ledger.agencyOf("No Such Agency")), 0, "unknown agency name");
    }

    // ------------------------------------------------------------ known

    function test_RecordViews_ReturnThePackedFields() public {
        vm.roll(START_BLOCK + 1);
        vm.warp(START_TIME + 12);
        anchorAs(worksPk, planning);
        vm.roll(START_BLOCK + 2);
        vm.warp(START_TIME + 24);
        relay(cityPk, document);

        assertRecord(
            ledger.recordByKey(keyOf(planning)),
            planning.digest,
            worksKey,
            works,
            START_BLOCK + 1,
            START_TIME + 12,
            Stages.PLANNING
        );
        assertSameRecord(ledger.recordByDigest(planning.digest), ledger.recordByKey(keyOf(planning)));
        assertRecord(
            ledger.recordByKey(keyOf(document)),
            document.digest,
            cityKey,
            city,
            START_BLOCK + 2,
            START_TIME + 24,
            Stages.DOCUMENT
        );
        // Rule 7: a document is found by its key; its digest names no single record.
        assertNoRecord(ledger.recordByDigest(document.digest));
    }

    /// @notice The packed record keeps every field apart even at the widths' limits.
    function test_RecordViews_PackingHoldsAtFieldLimits() public {
        uint256 maxBlock = type(uint40).max;
        uint256 maxTime = type(uint48).max;
        vm.roll(maxBlock);
        vm.warp(maxTime);
        anchorAs(cityPk, document);
        assertRecord(
            ledger.recordByKey(keyOf(document)), document.digest, cityKey, city, maxBlock, maxTime, Stages.DOCUMENT
        );
    }

    function testFuzz_RecordViews_PackingRoundTrips(uint40 blockNumber, uint48 timestamp, uint8 stage) public {
        blockNumber = uint40(bound(blockNumber, 1, type(uint40).max));
        stage = uint8(bound(stage, Stages.PLANNING, Stages.DOCUMENT));
        vm.roll(blockNumber);
        vm.warp(timestamp);
        document.stage = stage;
        anchorAs(cityPk, document);
        assertRecord(ledger.recordByKey(keyOf(document)), document.digest, cityKey, city, blockNumber, timestamp, stage);
    }

    function test_BatchViews_PackMany() public {
        anchorAs(worksPk, planning);
        relay(cityPk, document);

        bytes32[] memory keys = new bytes32[](3);
        (keys[0], keys[1], keys[2]) = (keyOf(document), keccak256("unknown key"), keyOf(planning));
        INoticeLedger.NoticeRecord[] memory byKey = ledger.recordsByKey(keys);
        assertEq(byKey.length, 3, "one record per key");
        assertSameRecord(byKey[0], ledger.recordByKey(keys[0]));
        assertNoRecord(byKey[1]);
        assertSameRecord(byKey[2], ledger.recordByKey(keys[2]));
        assertEq(byKey[0].signer, cityKey, "order kept");

        bytes32[] memory digests = new bytes32[](3);
        (digests[0], digests[1], digests[2]) = (planning.digest, document.digest, sha256("unknown"));
        INoticeLedger.NoticeRecord[] memory byDigest = ledger.recordsByDigest(digests);
        assertEq(byDigest.length, 3, "one record per digest");
        assertSameRecord(byDigest[0], ledger.recordByKey(keyOf(planning)));
        assertNoRecord(byDigest[1]); // a document is found by key only
        assertNoRecord(byDigest[2]);

        assertEq(ledger.recordsByKey(new bytes32[](0)).length, 0, "empty in, empty out");
        assertEq(ledger.recordsByDigest(new bytes32[](0)).length, 0, "empty in, empty out");
    }

    function test_RecordView_FollowsTheSignersAgencyAfterRevocation() public {
        anchorAs(worksPk, planning);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        assertEq(uint256(ledger.recordByKey(keyOf(planning)).agency), uint256(works), "agency still resolved");
    }

    // ------------------------------------------------------------ notice key

    function test_NoticeKey_IsTheDocumentedEncoding() public view {
        assertEq(
            ledger.noticeKey(OCID, "r1"),
            keccak256(abi.encode(keccak256(bytes(OCID)), keccak256(bytes("r1")))),
            "noticeKey"
        );
        // Hashing each part first keeps ("ab", "c") and ("a", "bc") apart.
        assertNotEq(ledger.noticeKey("ab", "c"), ledger.noticeKey("a", "bc"), "no concatenation ambiguity");
    }

    function testFuzz_NoticeKey_IsTheDocumentedEncoding(string calldata ocid, string calldata releaseId)
        public
        view
    {
        assertEq(ledger.noticeKey(ocid, releaseId), keyOf(ocid, releaseId), "noticeKey");
    }

    function test_Counts_StartFromTheFixture() public view {
        (uint32 agencies, uint64 batches) = ledger.counts();
        assertEq(uint256(agencies), 2, "two agencies");
        assertEq(uint256(batches), 0, "no batch");
    }
}
