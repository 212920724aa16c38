// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title AnchorNoticesTest
/// @notice anchorNotices anchors in order, all or none; an exact duplicate is a retry and is
///         skipped, so resubmitting a call is idempotent; every single-notice rule still holds.
contract AnchorNoticesTest is LedgerTestBase {
    /// @dev `count` planning and document notices of process `ocid`, sealed with `privateKey`.
    function _sealedSet(uint256 privateKey, string memory ocid, uint256 count)
        internal
        view
        returns (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals)
    {
        notices = new INoticeLedger.NoticeInput[](count);
        seals = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            string memory tag = string.concat("doc-", decimal(i));
            notices[i] = notice(ocid, releaseIdOf(ocid, tag), i == 0 ? Stages.PLANNING : Stages.DOCUMENT, digestOf(ocid, tag), 0);
            seals[i] = sealNotice(privateKey, notices[i]);
        }
    }

    function _submit(address sender, INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals)
        private
        returns (uint256)
    {
        vm.prank(sender);
        return ledger.anchorNotices(notices, seals);
    }

    function _assertNoneAnchored(INoticeLedger.NoticeInput[] memory notices) private view {
        for (uint256 i; i < notices.length; ++i) {
            assertNotAnchored(notices[i]);
        }
        assertEq(uint256(ledger.processOf(ocidHashOf(notices[0].ocid)).notices), 0, "process untouched");
    }

    // ------------------------------------------------------------ success

    function test_AnchorNotices_AnchorsAllInOrder() public {
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 5);
        assertEq(_submit(worksKey, notices, seals), 5, "anchoredCount");
        for (uint256 i; i < notices.length; ++i) {
            assertAnchoredNow(notices[i], worksKey, works);
        }
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), 5, "process notices");
    }

    function test_AnchorNotices_RelayerMayMixAgenciesAndKeys() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](3);
        bytes[] memory seals = new bytes[](3);
        notices[0] = notice("ocds-213czf-000-00010", "r1", Stages.PLANNING, sha256("w1"), 0);
        notices[1] = notice("ocds-213czf-000-00010", "r2", Stages.PLANNING_UPDATE, sha256("w2"), 0);
        notices[2] = notice("ocds-213czf-000-00020", "r1", Stages.PLANNING, sha256("c1"), 0);
        seals[0] = sealNotice(worksPk, notices[0]);
        seals[1] = sealNotice(worksPk2, notices[1]);
        seals[2] = sealNotice(cityPk, notices[2]);
        assertEq(_submit(relayer, notices, seals), 3, "anchoredCount");
        assertAnchoredNow(notices[0], worksKey, works);
        assertAnchoredNow(notices[1], worksKey2, works);
        assertAnchoredNow(notices[2], cityKey, city);
    }

    function test_AnchorNotices_AppliesLifecycleInOrderWithinTheCall() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        uint64 deadline = START_TIME + 1 days;
        notices[0] = notice("tender", Stages.TENDER, deadline);
        notices[1] = notice("award", Stages.AWARD, 0);
        seals[0] = sealNotice(worksPk, notices[0]);
        seals[1] = sealNotice(worksPk, notices[1]);

        // The tender earlier in the same call already guards the award ...
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.DeadlineNotPassed.selector, ocidHashOf(OCID), deadline)
        );
        _submit(worksKey, notices, seals);
        _assertNoneAnchored(notices);

        // ... and once the deadline is reached the same call goes through.
        vm.warp(deadline);
        assertEq(_submit(worksKey, notices, seals), 2, "anchoredCount");
    }

    function test_AnchorNotices_AcceptsMaxNoticesPerCall() public {
        uint256 max = ledger.MAX_NOTICES_PER_CALL();
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(cityPk, OCID, max);
        assertEq(_submit(relayer, notices, seals), max, "anchoredCount");
        assertAnchoredNow(notices[max - 1], cityKey, city);
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), max, "process notices");
    }

    // ------------------------------------------------------------ retries

    function test_AnchorNotices_SkipsExactDuplicates() public {
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 4);
        anchorAs(worksPk, notices[1]);
        INoticeLedger.NoticeRecord memory earlier = ledger.recordByKey(keyOf(notices[1]));

        vm.roll(START_BLOCK + 1);
        vm.recordLogs();
        assertEq(_submit(worksKey, notices, seals), 3, "one of four was already anchored");
        assertEq(vm.getRecordedLogs().length, 3, "no event for the skipped notice");
        assertSameRecord(ledger.recordByKey(keyOf(notices[1])), earlier);
        assertAnchoredNow(notices[3], worksKey, works);

        // Resubmitting the whole call is a no-op that still succeeds.
        assertEq(_submit(relayer, notices, seals), 0, "idempotent retry");
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), 4, "process notices");
    }

    function test_AnchorNotices_SkipsADuplicateInsideTheSameCall() public {
        (INoticeLedger.NoticeInput[] memory one, bytes[] memory oneSeal) = _sealedSet(worksPk, OCID, 1);
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        (notices[0], notices[1]) = (one[0], one[0]);
        (seals[0], seals[1]) = (oneSeal[0], oneSeal[0]);
        assertEq(_submit(worksKey, notices, seals), 1, "second copy skipped");
    }

    function test_AnchorNotices_SkippedDuplicateNeedsNoValidSeal() public {
        // A retry is recognised by its digest alone; nothing is written, so nothing is trusted.
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 2);
        anchorAs(worksPk, notices[0]);
        seals[0] = "";
        assertEq(_submit(worksKey, notices, seals), 1, "anchoredCount");
    }

    // ------------------------------------------------------------ all or none

    function test_AnchorNotices_RevertWhen_LengthsDiffer() public {
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 3);
        bytes[] memory fewer = new bytes[](2);
        (fewer[0], fewer[1]) = (seals[0], seals[1]);
        bytes[] memory more = new bytes[](4);
        for (uint256 i; i < 3; ++i) {
            more[i] = seals[i];
        }
        more[3] = seals[2];

        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.LengthMismatch.selector, 3, 2));
        _submit(worksKey, notices, fewer);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.LengthMismatch.selector, 3, 4));
        _submit(worksKey, notices, more);
        _assertNoneAnchored(notices);
    }

    function test_AnchorNotices_RevertWhen_Empty() public {
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.BadNoticeCount.selector, 0));
        _submit(relayer, new INoticeLedger.NoticeInput[](0), new bytes[](0));
    }

    function test_AnchorNotices_RevertWhen_MoreThanMax() public {
        uint256 tooMany = ledger.MAX_NOTICES_PER_CALL() + 1;
        // The count is checked before anything else, so the contents do not matter.
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.BadNoticeCount.selector, tooMany));
        _submit(relayer, new INoticeLedger.NoticeInput[](tooMany), new bytes[](tooMany));
    }

    function test_AnchorNotices_RevertWhen_ConflictAnywhere() public {
        (INoticeLedger.NoticeInput[] memory existing,) = _sealedSet(worksPk, OCID, 1);
        anchorAs(worksPk, existing[0]);

        // Positions 0, 2 and 4 of a five-notice call, each time with the others valid.
        for (uint256 at; at < 5; at += 2) {
            (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) =
                _sealedSet(worksPk, "ocds-213czf-000-00011", 5);
            notices[at] = notice(existing[0].ocid, existing[0].releaseId, Stages.PLANNING, sha256("rewrite"), 0);
            seals[at] = sealNotice(worksPk, notices[at]);
            vm.expectRevert(
                abi.encodeWithSelector(
                    INoticeLedger.DigestConflict.selector, keyOf(existing[0]), existing[0].digest, sha256("rewrite")
                )
            );
            _submit(worksKey, notices, seals);
            for (uint256 i; i < 5; ++i) {
                if (i != at) assertNotAnchored(notices[i]);
            }
        }
        assertEq(uint256(ledger.processOf(ocidHashOf("ocds-213czf-000-00011")).notices), 0, "nothing kept");
    }

    function test_AnchorNotices_RevertWhen_AnyNoticeBreaksARule() public {
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 3);

        INoticeLedger.NoticeInput memory last = notices[2];
        last.stage = 42;
        seals[2] = sealNotice(worksPk, last);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownStage.selector, 42));
        _submit(worksKey, notices, seals);

        last.stage = Stages.DOCUMENT;
        seals[2] = malleate(sealNotice(worksPk, last));
        vm.expectRevert(INoticeLedger.InvalidSeal.selector);
        _submit(worksKey, notices, seals);

        seals[2] = sealNotice(worksPk, last);
        // A release reusing the digest of the release before it (documents may share a digest
        // across processes; releases never share one).
        notices[1].stage = Stages.PLANNING_UPDATE;
        notices[1].digest = notices[0].digest;
        seals[1] = sealNotice(worksPk, notices[1]);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.DigestAlreadyAnchored.selector, notices[0].digest));
        _submit(worksKey, notices, seals);

        // A notice naming a previous release that is not on the ledger (nor earlier in the call).
        notices[1] = notice(OCID, releaseIdOf(OCID, "doc-1"), Stages.PLANNING_UPDATE, digestOf(OCID, "doc-1"), 0);
        notices[1].previous = previousOf(releaseIdOf(OCID, "never-anchored"));
        seals[1] = sealNotice(worksPk, notices[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                INoticeLedger.PreviousNotAnchored.selector, ocidHashOf(OCID), notices[1].previous
            )
        );
        _submit(worksKey, notices, seals);
        _assertNoneAnchored(notices);
    }

    function test_AnchorNotices_PreviousMayNameAnEarlierNoticeOfTheSameCall() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        notices[0] = notice("planning", Stages.PLANNING, 0);
        notices[1] = amending(notice("planning-update", Stages.PLANNING_UPDATE, 0), notices[0].releaseId);
        seals[0] = sealNotice(worksPk, notices[0]);
        seals[1] = sealNotice(worksPk, notices[1]);

        // Named before it is anchored: refused, and the whole call with it.
        INoticeLedger.NoticeInput[] memory reversed = new INoticeLedger.NoticeInput[](2);
        bytes[] memory reversedSeals = new bytes[](2);
        (reversed[0], reversed[1]) = (notices[1], notices[0]);
        (reversedSeals[0], reversedSeals[1]) = (seals[1], seals[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                INoticeLedger.PreviousNotAnchored.selector, ocidHashOf(OCID), previousOf(notices[0].releaseId)
            )
        );
        _submit(worksKey, reversed, reversedSeals);
        _assertNoneAnchored(notices);

        // Named after it, earlier in the same call: accepted.
        assertEq(_submit(worksKey, notices, seals), 2, "anchoredCount");
        assertAnchoredNow(notices[1], worksKey, works);
    }

    function test_AnchorNotices_RevertWhen_SenderDidNotSealEveryNotice() public {
        // A sealer may submit its own notices, not another key's, unless it is a relayer.
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        notices[0] = notice("planning", Stages.PLANNING, 0);
        notices[1] = notice("planning-update", Stages.PLANNING_UPDATE, 0);
        seals[0] = sealNotice(worksPk, notices[0]);
        seals[1] = sealNotice(worksPk2, notices[1]);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, worksKey));
        _submit(worksKey, notices, seals);
        _assertNoneAnchored(notices);
    }

    function test_AnchorNotices_RevertWhen_SubmittedByOutsider() public {
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _sealedSet(worksPk, OCID, 2);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, outsider));
        _submit(outsider, notices, seals);
        _assertNoneAnchored(notices);
    }

    function test_AnchorNotices_RevertWhen_AnySealKeyIsRevoked() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        notices[0] = notice("planning", Stages.PLANNING, 0);
        notices[1] = notice("planning-update", Stages.PLANNING_UPDATE, 0);
        seals[0] = sealNotice(worksPk, notices[0]);
        seals[1] = sealNotice(worksPk2, notices[1]);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey2);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey2));
        _submit(relayer, notices, seals);
        _assertNoneAnchored(notices);
    }
}
