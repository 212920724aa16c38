// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title NoticesTest
/// @notice Field rules of a single notice and rules 2 and 3: a process belongs to the agency
///         that first anchored it, and an (ocid, release id) is anchored once, immutably.
contract NoticesTest is LedgerTestBase {
    INoticeLedger.NoticeInput internal planning;

    function setUp() public override {
        super.setUp();
        planning = notice("planning", Stages.PLANNING, 0);
    }

    /// @dev Seals `n` with the works key and expects the works key's own submission to fail.
    function _expectRefused(INoticeLedger.NoticeInput memory n, bytes memory revertData) private {
        bytes memory seal = sealNotice(worksPk, n);
        vm.expectRevert(revertData);
        vm.prank(worksKey);
        ledger.anchorNotice(n, seal);
    }

    // ------------------------------------------------------------ stored record

    function test_AnchorNotice_StoresRecordAndOpensProcess() public {
        vm.roll(START_BLOCK + 3);
        vm.warp(START_TIME + 60);
        anchorAs(worksPk, planning);

        assertRecord(
            ledger.recordByKey(keyOf(planning)),
            planning.digest,
            worksKey,
            works,
            START_BLOCK + 3,
            START_TIME + 60,
            Stages.PLANNING
        );
        assertSameRecord(ledger.recordByDigest(planning.digest), ledger.recordByKey(keyOf(planning)));
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(p.agency), uint256(works), "process bound to works");
        assertEq(uint256(p.notices), 1, "one notice");
        assertFalse(p.hasTender, "no tender");
        assertFalse(p.cancelled, "not cancelled");
        assertEq(uint256(p.deadline), 0, "no deadline");
    }

    // ------------------------------------------------------------ field rules

    function test_AnchorNotice_RevertWhen_DigestIsZero() public {
        planning.digest = bytes32(0);
        _expectRefused(planning, abi.encodeWithSelector(INoticeLedger.ZeroDigest.selector));
        assertNoRecord(ledger.recordByKey(keyOf(planning)));
    }

    function test_AnchorNotice_RevertWhen_OcidIsEmpty() public {
        planning.ocid = "";
        _expectRefused(
            planning, abi.encodeWithSelector(INoticeLedger.EmptyField.selector, INoticeLedger.TextField.Ocid)
        );
        assertNotAnchored(planning);
    }

    function test_AnchorNotice_RevertWhen_ReleaseIdIsEmpty() public {
        planning.releaseId = "";
        _expectRefused(
            planning, abi.encodeWithSelector(INoticeLedger.EmptyField.selector, INoticeLedger.TextField.ReleaseId)
        );
        assertNotAnchored(planning);
    }

    function test_AnchorNotice_OcidLengthBoundary() public {
        uint256 max = ledger.MAX_TEXT_BYTES();
        INoticeLedger.NoticeInput memory longest = notice(filled(max, "o"), "r1", Stages.PLANNING, sha256("a"), 0);
        anchorAs(worksPk, longest);
        assertAnchoredNow(longest, worksKey, works);

        INoticeLedger.NoticeInput memory tooLong = notice(filled(max + 1, "o"), "r1", Stages.PLANNING, sha256("b"), 0);
        _expectRefused(
            tooLong,
            abi.encodeWithSelector(INoticeLedger.FieldTooLong.selector, INoticeLedger.TextField.Ocid, max + 1)
        );
        assertNotAnchored(tooLong);
    }

    function test_AnchorNotice_ReleaseIdLengthBoundary() public {
        uint256 max = ledger.MAX_TEXT_BYTES();
        INoticeLedger.NoticeInput memory longest = notice(OCID, filled(max, "r"), Stages.PLANNING, sha256("a"), 0);
        anchorAs(worksPk, longest);
        assertAnchoredNow(longest, worksKey, works);

        INoticeLedger.NoticeInput memory tooLong = notice(OCID, filled(max + 1, "r"), Stages.PLANNING, sha256("b"), 0);
        _expectRefused(
            tooLong,
            abi.encodeWithSelector(INoticeLedger.FieldTooLong.selector, INoticeLedger.TextField.ReleaseId, max + 1)
        );
        assertNotAnchored(tooLong);
    }

    function test_AnchorNotice_RevertWhen_StageUnknown() public {
        uint8[4] memory unknown = [uint8(0), 17, 128, 255];
        for (uint256 i; i < unknown.length; ++i) {
            planning.stage = unknown[i];
            _expectRefused(planning, abi.encodeWithSelector(INoticeLedger.UnknownStage.selector, unknown[i]));
        }
        assertNotAnchored(planning);
    }

    function testFuzz_AnchorNotice_RevertWhen_StageUnknown(uint8 stage) public {
        vm.assume(stage == 0 || stage > Stages.DOCUMENT);
        planning.stage = stage;
        _expectRefused(planning, abi.encodeWithSelector(INoticeLedger.UnknownStage.selector, stage));
        assertNotAnchored(planning);
    }

    function test_AnchorNotice_AcceptsEveryKnownStageOnAFreshProcess() public {
        for (uint8 stage = Stages.PLANNING; stage <= Stages.DOCUMENT; ++stage) {
            string memory ocid = string.concat("ocds-213czf-stage-", decimal(stage));
            INoticeLedger.NoticeInput memory n = notice(ocid, "r1", stage, sha256(bytes(ocid)), 0);
            anchorAs(worksPk, n);
            assertAnchoredNow(n, worksKey, works);
        }
    }

    // ------------------------------------------------------------ rule 3: anchored once

    function test_AnchorNotice_RevertWhen_SameNoticeAnchoredAgain() public {
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeRecord memory first = ledger.recordByKey(keyOf(planning));
        vm.roll(START_BLOCK + 1);
        // A fresh seal from another key of the same agency, through the relayer: still refused.
        bytes memory seal = sealNotice(worksPk2, planning);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.NoticeAlreadyAnchored.selector, keyOf(planning)));
        vm.prank(relayer);
        ledger.anchorNotice(planning, seal);
        assertSameRecord(ledger.recordByKey(keyOf(planning)), first);
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), 1, "still one notice");
    }

    function test_AnchorNotice_RevertWhen_DigestConflictsWithAnchoredRelease() public {
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeRecord memory first = ledger.recordByKey(keyOf(planning));
        INoticeLedger.NoticeInput memory rewritten = notice(
            planning.ocid, planning.releaseId, planning.stage, sha256("rewritten release"), planning.deadline
        );
        _expectRefused(
            rewritten,
            abi.encodeWithSelector(
                INoticeLedger.DigestConflict.selector, keyOf(planning), planning.digest, rewritten.digest
            )
        );
        assertSameRecord(ledger.recordByKey(keyOf(planning)), first);
        assertNoRecord(ledger.recordByDigest(rewritten.digest));
    }

    function test_AnchorNotice_RevertWhen_DigestAnchoredUnderAnotherKey() public {
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeInput memory copy = notice("planning-copy", Stages.PLANNING, 0);
        copy.digest = planning.digest;
        _expectRefused(copy, abi.encodeWithSelector(INoticeLedger.DigestAlreadyAnchored.selector, planning.digest));
        assertNoRecord(ledger.recordByKey(keyOf(copy)));
        assertEq(ledger.recordByDigest(planning.digest).digest, planning.digest, "original kept");

        // Also across processes and agencies, at any stage: a release digest has one place on
        // the ledger. (Only evidence documents are scoped to their process: Documents.t.sol.)
        for (uint8 stage = Stages.PLANNING; stage < Stages.DOCUMENT; ++stage) {
            INoticeLedger.NoticeInput memory elsewhere =
                notice("ocds-213czf-000-00002", string.concat("r", decimal(stage)), stage, planning.digest, 0);
            bytes memory seal = sealNotice(cityPk, elsewhere);
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.DigestAlreadyAnchored.selector, planning.digest));
            vm.prank(cityKey);
            ledger.anchorNotice(elsewhere, seal);
            assertNoRecord(ledger.recordByKey(keyOf(elsewhere)));
        }
        assertSameRecord(ledger.recordByDigest(planning.digest), ledger.recordByKey(keyOf(planning)));
        assertEq(uint256(ledger.processOf(ocidHashOf("ocds-213czf-000-00002")).agency), 0, "no process opened");
    }

    // ------------------------------------------------------------ rule 2: one agency per process

    function test_AnchorNotice_RevertWhen_ProcessBelongsToAnotherAgency() public {
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeInput memory intrusion = notice("tender", Stages.TENDER, 0);
        bytes memory seal = sealNotice(cityPk, intrusion);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(OCID), works, city)
        );
        vm.prank(relayer);
        ledger.anchorNotice(intrusion, seal);
        assertNotAnchored(intrusion);
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(p.agency), uint256(works), "still bound to works");
        assertFalse(p.hasTender, "intruding tender left no trace");
    }

    function test_AnchorNotice_AnyKeyOfTheBoundAgencyContinuesTheProcess() public {
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeInput memory next = notice("planning-update", Stages.PLANNING_UPDATE, 0);
        anchorAs(worksPk2, next);
        assertAnchoredNow(next, worksKey2, works);
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), 2, "two notices");
    }

    function test_AnchorNotice_ProcessStaysBoundAfterItsFirstKeyIsRevoked() public {
        anchorAs(worksPk, planning);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        INoticeLedger.NoticeInput memory next = notice("tender", Stages.TENDER, 0);
        anchorAs(worksPk2, next);
        assertAnchoredNow(next, worksKey2, works);

        INoticeLedger.NoticeInput memory intrusion = notice("award", Stages.AWARD, 0);
        bytes memory seal = sealNotice(cityPk, intrusion);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(OCID), works, city)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(intrusion, seal);
    }

    // ------------------------------------------------------------ fuzz

    /// @notice Any well-formed notice round-trips: the record holds what was sealed. With
    ///         `linked`, it names (`previous`) a planning release anchored before it in its process.
    function testFuzz_AnchorNotice_RoundTrip(
        string memory ocid,
        string memory releaseId,
        bytes32 digest,
        bool linked,
        uint8 stage,
        uint64 deadline,
        bool viaRelayer
    ) public {
        vm.assume(bytes(ocid).length > 0 && bytes(ocid).length <= 256);
        vm.assume(bytes(releaseId).length > 0 && bytes(releaseId).length <= 256);
        vm.assume(digest != bytes32(0));
        stage = uint8(bound(stage, Stages.PLANNING, Stages.DOCUMENT));
        INoticeLedger.NoticeInput memory n = INoticeLedger.NoticeInput({
            ocid: ocid,
            releaseId: releaseId,
            stage: stage,
            digest: digest,
            previous: bytes32(0),
            deadline: deadline
        });
        if (linked) {
            string memory earlierId = "earlier planning release";
            vm.assume(keccak256(bytes(releaseId)) != keccak256(bytes(earlierId)) && digest != sha256("earlier"));
            anchorAs(cityPk, notice(ocid, earlierId, Stages.PLANNING, sha256("earlier"), 0));
            n.previous = previousOf(earlierId);
        }

        if (viaRelayer) relay(cityPk, n);
        else anchorAs(cityPk, n);

        assertEq(ledger.noticeKey(ocid, releaseId), keyOf(ocid, releaseId), "noticeKey");
        assertAnchoredNow(n, cityKey, city);
        INoticeLedger.ProcessState memory p = ledger.processOf(keccak256(bytes(ocid)));
        assertEq(uint256(p.agency), uint256(city), "process agency");
        assertEq(uint256(p.notices), linked ? 2 : 1, "process notices");
        bool tenderStage = stage >= Stages.TENDER && stage <= Stages.TENDER_UPDATE;
        assertEq(uint256(p.deadline), tenderStage ? deadline : 0, "deadline only from tender stages");
        assertEq(p.hasTender, tenderStage || stage == Stages.TENDER_CANCELLATION, "hasTender");
        assertEq(p.cancelled, stage == Stages.TENDER_CANCELLATION, "cancelled");

        // And it can never be re-anchored, with the same or any other digest.
        bytes32 otherDigest = bytes32(uint256(digest) ^ 1);
        n.digest = otherDigest;
        bytes memory seal = sealNotice(cityPk, n);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.DigestConflict.selector, keyOf(ocid, releaseId), digest, otherDigest)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(n, seal);
    }

    /// @notice Any non-zero `previous` that names no release of the process is refused, even
    ///         when another process holds a release under that id; zero names nothing and passes.
    function testFuzz_AnchorNotice_RevertWhen_PreviousNotAnchored(bytes32 previous, uint8 stage) public {
        vm.assume(previous != previousOf(planning.releaseId));
        stage = uint8(bound(stage, Stages.PLANNING, Stages.DOCUMENT));
        // "shared" is a release of another process only; `planning` is the one release of OCID.
        anchorAs(cityPk, notice("ocds-213czf-000-00002", "shared", Stages.PLANNING, sha256("other"), 0));
        anchorAs(worksPk, planning);
        INoticeLedger.NoticeInput memory n = notice(OCID, "next", stage, sha256("next"), 0);

        n.previous = previousOf("shared");
        _expectRefused(
            n, abi.encodeWithSelector(INoticeLedger.PreviousNotAnchored.selector, ocidHashOf(OCID), n.previous)
        );
        n.previous = previous;
        if (previous != bytes32(0)) {
            _expectRefused(
                n, abi.encodeWithSelector(INoticeLedger.PreviousNotAnchored.selector, ocidHashOf(OCID), previous)
            );
            assertNotAnchored(n);
            n.previous = previousOf(planning.releaseId);
        }
        anchorAs(worksPk, n);
        assertAnchoredNow(n, worksKey, works);
    }
}
