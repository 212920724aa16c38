// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title LifecycleTest
/// @notice Rule 4: with a tender on the ledger, awards and contracts wait for the declared
///         submission deadline and stop at a cancellation; amendments move the deadline
///         only while it has not passed; a process may open at a later stage.
contract LifecycleTest is LedgerTestBase {
    uint64 internal constant DEADLINE = START_TIME + 10 days;
    bytes32 internal ocidHash;

    function setUp() public override {
        super.setUp();
        ocidHash = ocidHashOf(OCID);
        anchorAs(worksPk, notice("tender", Stages.TENDER, DEADLINE));
    }

    /// @dev A notice of the fixture process whose release id and digest are unique per (tag, stage).
    function _stageNotice(string memory tag, uint8 stage, uint64 deadline)
        private
        pure
        returns (INoticeLedger.NoticeInput memory)
    {
        return notice(string.concat(tag, "-", decimal(stage)), stage, deadline);
    }

    function _expectRefused(INoticeLedger.NoticeInput memory n, bytes memory revertData) private {
        bytes memory seal = sealNotice(worksPk, n);
        vm.expectRevert(revertData);
        vm.prank(worksKey);
        ledger.anchorNotice(n, seal);
        assertNotAnchored(n);
    }

    function _deadlineNotPassed(uint64 deadline) private view returns (bytes memory) {
        return abi.encodeWithSelector(INoticeLedger.DeadlineNotPassed.selector, ocidHash, deadline);
    }

    function _deadlinePassed(uint64 deadline) private view returns (bytes memory) {
        return abi.encodeWithSelector(INoticeLedger.DeadlinePassed.selector, ocidHash, deadline);
    }

    function _deadlineInPast(uint64 declared) private view returns (bytes memory) {
        return abi.encodeWithSelector(INoticeLedger.DeadlineInPast.selector, ocidHash, declared, block.timestamp);
    }

    function _tenderAfterAmendment() private view returns (bytes memory) {
        return abi.encodeWithSelector(INoticeLedger.TenderAfterAmendment.selector, ocidHash);
    }

    function _previousNotAnchored(bytes32 previous) private view returns (bytes memory) {
        return abi.encodeWithSelector(INoticeLedger.PreviousNotAnchored.selector, ocidHash, previous);
    }

    // ------------------------------------------------------------ tender

    function test_Tender_DeclaresTheDeadline() public view {
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHash);
        assertTrue(p.hasTender, "hasTender");
        assertFalse(p.cancelled, "not cancelled");
        assertEq(uint256(p.deadline), DEADLINE, "deadline");
        assertEq(uint256(p.agency), uint256(works), "agency");
        assertEq(uint256(p.notices), 1, "notices");
    }

    // ------------------------------------------------------------ awards and contracts vs deadline

    function test_AwardAndContractStages_RevertBeforeDeadline() public {
        vm.warp(DEADLINE - 1);
        for (uint8 stage = Stages.AWARD; stage <= Stages.CONTRACT_TERMINATION; ++stage) {
            _expectRefused(_stageNotice("early", stage, 0), _deadlineNotPassed(DEADLINE));
        }
        assertEq(uint256(ledger.processOf(ocidHash).notices), 1, "nothing added");
    }

    function test_AwardAndContractStages_AcceptedAtTheDeadline() public {
        vm.warp(DEADLINE);
        for (uint8 stage = Stages.AWARD; stage <= Stages.CONTRACT_TERMINATION; ++stage) {
            INoticeLedger.NoticeInput memory n = _stageNotice("on-time", stage, 0);
            anchorAs(worksPk, n);
            assertAnchoredNow(n, worksKey, works);
        }
        assertEq(uint256(ledger.processOf(ocidHash).notices), 10, "tender + 9 award/contract notices");
    }

    function test_Award_AcceptedWellAfterTheDeadline() public {
        vm.warp(DEADLINE + 90 days);
        INoticeLedger.NoticeInput memory award = notice("award", Stages.AWARD, 0);
        relay(worksPk2, award);
        assertAnchoredNow(award, worksKey2, works);
    }

    function test_Award_DeadlineDeclaredByTheAwardIsIgnored() public {
        // Only tender stages declare the deadline; an award carrying one changes nothing.
        vm.warp(DEADLINE);
        anchorAs(worksPk, notice("award", Stages.AWARD, DEADLINE + 30 days));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "deadline unchanged");
    }

    // ------------------------------------------------------------ cancellation

    function test_AwardAndContractStages_RevertAfterCancellation() public {
        anchorAs(worksPk, notice("cancellation", Stages.TENDER_CANCELLATION, 0));
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHash);
        assertTrue(p.cancelled, "cancelled");
        assertEq(uint256(p.deadline), DEADLINE, "deadline kept");

        vm.warp(DEADLINE + 1 days);
        for (uint8 stage = Stages.AWARD; stage <= Stages.CONTRACT_TERMINATION; ++stage) {
            _expectRefused(
                _stageNotice("late", stage, 0), abi.encodeWithSelector(INoticeLedger.ProcessCancelled.selector, ocidHash)
            );
        }
    }

    function test_Cancellation_KeepsAwardsAnchoredBeforeIt() public {
        vm.warp(DEADLINE);
        INoticeLedger.NoticeInput memory award = notice("award", Stages.AWARD, 0);
        anchorAs(worksPk, award);
        INoticeLedger.NoticeRecord memory before = ledger.recordByKey(keyOf(award));
        anchorAs(worksPk, notice("cancellation", Stages.TENDER_CANCELLATION, 0));
        assertSameRecord(ledger.recordByKey(keyOf(award)), before);
        _expectRefused(
            notice("award-2", Stages.AWARD, 0), abi.encodeWithSelector(INoticeLedger.ProcessCancelled.selector, ocidHash)
        );
    }

    function test_Cancellation_IsFinalEvenIfATenderFollows() public {
        anchorAs(worksPk, notice("cancellation", Stages.TENDER_CANCELLATION, 0));
        anchorAs(worksPk, notice("tender-relaunch", Stages.TENDER, DEADLINE));
        assertTrue(ledger.processOf(ocidHash).cancelled, "still cancelled");
        vm.warp(DEADLINE);
        _expectRefused(
            notice("award", Stages.AWARD, 0), abi.encodeWithSelector(INoticeLedger.ProcessCancelled.selector, ocidHash)
        );
    }

    function test_Cancellation_AsFirstNoticeAlsoBlocksAwards() public {
        string memory ocid = "ocds-213czf-000-00009";
        bytes32 cancelledHash = ocidHashOf(ocid);
        anchorAs(worksPk, notice(ocid, "cancel", Stages.TENDER_CANCELLATION, sha256("cancel-9"), 0));
        INoticeLedger.ProcessState memory p = ledger.processOf(cancelledHash);
        assertTrue(p.hasTender && p.cancelled, "a cancellation implies a tender");
        INoticeLedger.NoticeInput memory award = notice(ocid, "award", Stages.AWARD, sha256("award-9"), 0);
        bytes memory seal = sealNotice(worksPk, award);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.ProcessCancelled.selector, cancelledHash));
        vm.prank(worksKey);
        ledger.anchorNotice(award, seal);
    }

    // ------------------------------------------------------------ amendments move the deadline

    function test_Amendment_MovesTheDeadlineBeforeItPasses() public {
        vm.warp(DEADLINE - 1);
        anchorAs(worksPk, notice("amendment-1", Stages.TENDER_AMENDMENT, DEADLINE + 5 days));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE + 5 days, "extended by amendment");

        anchorAs(worksPk, notice("update-1", Stages.TENDER_UPDATE, DEADLINE + 2 days));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE + 2 days, "moved by update");

        // The moved deadline now governs awards.
        vm.warp(DEADLINE + 1 days);
        _expectRefused(notice("award", Stages.AWARD, 0), _deadlineNotPassed(DEADLINE + 2 days));
        vm.warp(DEADLINE + 2 days);
        anchorAs(worksPk, notice("award", Stages.AWARD, 0));
    }

    function test_Amendment_MayBringTheDeadlineForward() public {
        anchorAs(worksPk, notice("amendment-1", Stages.TENDER_AMENDMENT, START_TIME + 1 days));
        vm.warp(START_TIME + 1 days);
        anchorAs(worksPk, notice("award", Stages.AWARD, 0));
    }

    function test_Amendment_RevertWhen_DeadlineHasPassed() public {
        vm.warp(DEADLINE);
        _expectRefused(notice("amendment-1", Stages.TENDER_AMENDMENT, DEADLINE + 5 days), _deadlinePassed(DEADLINE));
        _expectRefused(notice("update-1", Stages.TENDER_UPDATE, DEADLINE - 5 days), _deadlinePassed(DEADLINE));
        // A new tender release of the same process is held to the same rule.
        _expectRefused(notice("tender-2", Stages.TENDER, DEADLINE + 5 days), _deadlinePassed(DEADLINE));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "deadline unchanged");
    }

    function test_Amendment_KeepingOrOmittingThePassedDeadlineIsAccepted() public {
        vm.warp(DEADLINE + 1 days);
        anchorAs(worksPk, notice("amendment-same", Stages.TENDER_AMENDMENT, DEADLINE));
        anchorAs(worksPk, notice("update-none", Stages.TENDER_UPDATE, 0));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "deadline unchanged");
    }

    function test_Amendment_DeclaringNoDeadlineKeepsTheDeadline() public {
        anchorAs(worksPk, notice("amendment-none", Stages.TENDER_AMENDMENT, 0));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "zero declares nothing");
        _expectRefused(notice("award", Stages.AWARD, 0), _deadlineNotPassed(DEADLINE));
    }

    // ------------------------------------------------------------ deadlines never move into the past

    function test_DeadlineMove_RevertWhen_ToTheBlockTime() public {
        vm.warp(START_TIME + 1 days);
        uint64 now_ = uint64(block.timestamp);
        _expectRefused(notice("amendment-1", Stages.TENDER_AMENDMENT, now_), _deadlineInPast(now_));
        _expectRefused(notice("update-1", Stages.TENDER_UPDATE, now_), _deadlineInPast(now_));
        _expectRefused(notice("tender-2", Stages.TENDER, now_), _deadlineInPast(now_));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "deadline unchanged");
        assertEq(uint256(ledger.processOf(ocidHash).notices), 1, "nothing added");
    }

    function test_DeadlineMove_RevertWhen_ToOneSecondBeforeTheBlockTime() public {
        vm.warp(START_TIME + 1 days);
        uint64 before = uint64(block.timestamp - 1);
        _expectRefused(notice("amendment-1", Stages.TENDER_AMENDMENT, before), _deadlineInPast(before));
        _expectRefused(notice("update-1", Stages.TENDER_UPDATE, before), _deadlineInPast(before));
        _expectRefused(notice("tender-2", Stages.TENDER, before), _deadlineInPast(before));
        // Far in the past (one second after the epoch) too.
        _expectRefused(notice("amendment-2", Stages.TENDER_AMENDMENT, 1), _deadlineInPast(1));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE, "deadline unchanged");
    }

    function test_DeadlineMove_ToAFutureTimeStillWorks() public {
        vm.warp(START_TIME + 1 days);
        uint64 next = uint64(block.timestamp + 1);
        anchorAs(worksPk, notice("amendment-1", Stages.TENDER_AMENDMENT, next));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), next, "brought forward to one second ahead");
        // The moved deadline governs awards, to the second.
        _expectRefused(notice("award", Stages.AWARD, 0), _deadlineNotPassed(next));
        vm.warp(next);
        anchorAs(worksPk, notice("award", Stages.AWARD, 0));
    }

    function test_DeadlineMove_PassedDeadlineIsReportedFirst() public {
        // Both rules broken: the deadline has passed and the new one is in the past.
        vm.warp(DEADLINE + 1 days);
        _expectRefused(notice("amendment-1", Stages.TENDER_AMENDMENT, DEADLINE + 1 hours), _deadlinePassed(DEADLINE));
    }

    function test_DeadlineDeclaredFirst_IsNotAMove() public {
        // A tender without a deadline: the first declaration moves nothing and is not held to
        // the block time (an archived tender may state a past deadline; rule 4 moves only).
        string memory ocid = "ocds-213czf-000-00008";
        vm.warp(START_TIME + 5 days);
        anchorAs(cityPk, notice(ocid, "tender", Stages.TENDER, sha256("t8"), 0));
        uint64 past = START_TIME + 1 days;
        anchorAs(cityPk, notice(ocid, "amendment", Stages.TENDER_AMENDMENT, sha256("m8"), past));
        assertEq(uint256(ledger.processOf(ocidHashOf(ocid)).deadline), past, "declared");
    }

    // ------------------------------------------------------------ no tender after an amendment

    function test_Tender_RevertWhen_AfterAnAmendment() public {
        anchorAs(worksPk, notice("amendment-1", Stages.TENDER_AMENDMENT, 0));
        _expectRefused(notice("tender-2", Stages.TENDER, 0), _tenderAfterAmendment());
        _expectRefused(notice("tender-3", Stages.TENDER, DEADLINE + 1 days), _tenderAfterAmendment());
        // Amendments and updates may still follow.
        anchorAs(worksPk, notice("amendment-2", Stages.TENDER_AMENDMENT, DEADLINE + 1 days));
        anchorAs(worksPk, notice("update-1", Stages.TENDER_UPDATE, 0));
        _expectRefused(notice("tender-4", Stages.TENDER, 0), _tenderAfterAmendment());
        assertEq(uint256(ledger.processOf(ocidHash).notices), 4, "tender + 3 amendments or updates");
    }

    function test_Tender_RevertWhen_AfterAnUpdate() public {
        anchorAs(worksPk, notice("update-1", Stages.TENDER_UPDATE, 0));
        _expectRefused(notice("tender-2", Stages.TENDER, 0), _tenderAfterAmendment());
        // Even once the deadline has passed, and when the tender would keep the deadline.
        vm.warp(DEADLINE + 1);
        _expectRefused(notice("tender-3", Stages.TENDER, DEADLINE), _tenderAfterAmendment());
    }

    function test_Tender_RevertWhen_TheProcessOpenedWithAnAmendment() public {
        string memory ocid = "ocds-213czf-000-00012";
        anchorAs(cityPk, notice(ocid, "amendment", Stages.TENDER_AMENDMENT, sha256("m12"), 0));
        INoticeLedger.NoticeInput memory tender = notice(ocid, "tender", Stages.TENDER, sha256("t12"), 0);
        bytes memory seal = sealNotice(cityPk, tender);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.TenderAfterAmendment.selector, ocidHashOf(ocid)));
        vm.prank(cityKey);
        ledger.anchorNotice(tender, seal);
    }

    function test_Tender_SecondTenderBeforeAnyAmendmentIsAccepted() public {
        // Another tender release, or a cancellation, is no amendment.
        anchorAs(worksPk, notice("tender-2", Stages.TENDER, DEADLINE + 1 days));
        anchorAs(worksPk, notice("cancellation", Stages.TENDER_CANCELLATION, 0));
        anchorAs(worksPk, notice("tender-3", Stages.TENDER, 0));
        assertEq(uint256(ledger.processOf(ocidHash).deadline), DEADLINE + 1 days, "moved by the second tender");
    }

    // ------------------------------------------------------------ previous names a release of the process

    function test_Previous_NamingAnAnchoredReleaseOfTheProcessIsAccepted() public {
        INoticeLedger.NoticeInput memory amendment =
            amending(notice("amendment-1", Stages.TENDER_AMENDMENT, DEADLINE + 1 days), releaseIdOf(OCID, "tender"));
        anchorAs(worksPk, amendment);
        assertAnchoredNow(amendment, worksKey, works);
        // A chain of amendments, each naming the one before.
        anchorAs(worksPk2, amending(notice("amendment-2", Stages.TENDER_AMENDMENT, 0), amendment.releaseId));
    }

    function test_Previous_RevertWhen_ReleaseUnknown() public {
        INoticeLedger.NoticeInput memory amendment =
            amending(notice("amendment-1", Stages.TENDER_AMENDMENT, 0), releaseIdOf(OCID, "no-such-release"));
        _expectRefused(amendment, _previousNotAnchored(previousOf(releaseIdOf(OCID, "no-such-release"))));

        // The notice key of an anchored release is not its release id (the former meaning).
        amendment.previous = keyOf(OCID, releaseIdOf(OCID, "tender"));
        _expectRefused(amendment, _previousNotAnchored(amendment.previous));
        // Nor is a release its own previous.
        amendment.previous = previousOf(amendment.releaseId);
        _expectRefused(amendment, _previousNotAnchored(amendment.previous));
    }

    function test_Previous_RevertWhen_ReleaseOfAnotherProcess() public {
        // Another process (of another agency) holds a release under the very same id string.
        string memory sharedId = "tender-notice-1";
        string memory other = "ocds-213czf-000-00013";
        anchorAs(cityPk, notice(other, sharedId, Stages.TENDER, sha256("t13"), 0));

        INoticeLedger.NoticeInput memory amendment =
            amending(notice("amendment-1", Stages.TENDER_AMENDMENT, 0), sharedId);
        _expectRefused(amendment, _previousNotAnchored(previousOf(sharedId)));

        // Once OCID has its own release under that id, the same link is accepted.
        anchorAs(worksPk, notice(OCID, sharedId, Stages.PLANNING, sha256("p-shared"), 0));
        anchorAs(worksPk, amendment);
        assertAnchoredNow(amendment, worksKey, works);
    }

    function test_Previous_RevertWhen_OnTheFirstNoticeOfAProcess() public {
        // Nothing is anchored in a fresh process, whatever other processes hold.
        string memory fresh = "ocds-213czf-000-00014";
        INoticeLedger.NoticeInput memory n = amending(
            notice(fresh, "award", Stages.AWARD, sha256("a14"), 0), releaseIdOf(OCID, "tender")
        );
        bytes memory seal = sealNotice(worksPk, n);
        vm.expectRevert(
            abi.encodeWithSelector(
                INoticeLedger.PreviousNotAnchored.selector, ocidHashOf(fresh), previousOf(releaseIdOf(OCID, "tender"))
            )
        );
        vm.prank(worksKey);
        ledger.anchorNotice(n, seal);
        assertEq(uint256(ledger.processOf(ocidHashOf(fresh)).agency), 0, "the process is not opened");
    }

    // ------------------------------------------------------------ processes opening late

    function test_ProcessMayOpenAtAnAwardOrContractStage() public {
        for (uint8 stage = Stages.AWARD; stage <= Stages.CONTRACT_TERMINATION; ++stage) {
            string memory ocid = string.concat("ocds-213czf-direct-", decimal(stage));
            INoticeLedger.NoticeInput memory n = notice(ocid, "r1", stage, sha256(bytes(ocid)), 0);
            anchorAs(cityPk, n);
            assertAnchoredNow(n, cityKey, city);
            INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(ocid));
            assertFalse(p.hasTender, "no tender on the ledger");
            assertEq(uint256(p.agency), uint256(city), "bound to city");
        }
    }

    function test_ProcessWithoutTender_AcceptsAwardsAnyTime() public {
        string memory ocid = "ocds-213czf-000-00003";
        anchorAs(cityPk, notice(ocid, "planning", Stages.PLANNING, sha256("p3"), 0));
        anchorAs(cityPk, notice(ocid, "award", Stages.AWARD, sha256("a3"), 0));
        anchorAs(cityPk, notice(ocid, "contract", Stages.CONTRACT, sha256("c3"), 0));
        assertEq(uint256(ledger.processOf(ocidHashOf(ocid)).notices), 3, "three notices");
    }

    function test_TenderWithoutDeadline_AcceptsAwardsAtOnce() public {
        string memory ocid = "ocds-213czf-000-00004";
        anchorAs(cityPk, notice(ocid, "tender", Stages.TENDER, sha256("t4"), 0));
        anchorAs(cityPk, notice(ocid, "award", Stages.AWARD, sha256("a4"), 0));
        assertTrue(ledger.processOf(ocidHashOf(ocid)).hasTender, "hasTender");
    }

    // ------------------------------------------------------------ stages never blocked

    function test_PlanningAndDocumentStages_AreNeverBlocked() public {
        uint8[3] memory free = [Stages.PLANNING, Stages.PLANNING_UPDATE, Stages.DOCUMENT];
        // Before the deadline ...
        for (uint256 i; i < free.length; ++i) {
            anchorAs(worksPk, _stageNotice("before", free[i], 0));
        }
        // ... after it has passed ...
        vm.warp(DEADLINE + 1);
        for (uint256 i; i < free.length; ++i) {
            anchorAs(worksPk, _stageNotice("after", free[i], 0));
        }
        // ... and after a cancellation.
        anchorAs(worksPk, notice("cancellation", Stages.TENDER_CANCELLATION, 0));
        for (uint256 i; i < free.length; ++i) {
            anchorAs(worksPk, _stageNotice("cancelled", free[i], 0));
        }
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHash);
        assertEq(uint256(p.notices), 11, "tender + 9 free notices + cancellation");
        assertEq(uint256(p.deadline), DEADLINE, "free stages never touch the deadline");
    }

    // ------------------------------------------------------------ no award predates its deadline

    /// @notice A tender declaring no deadline lets an award through at once; an amendment may not
    ///         then declare a deadline after that award, or the award would predate it.
    function test_DeadlineDeclaredAfterAnAward_Refused() public {
        string memory ocid = "ocds-213czf-000-00005";
        anchorAs(cityPk, notice(ocid, "tender", Stages.TENDER, sha256("t5"), 0));
        INoticeLedger.NoticeInput memory award = notice(ocid, "award", Stages.AWARD, sha256("a5"), 0);
        anchorAs(cityPk, award);
        uint48 awardedAt = ledger.processOf(ocidHashOf(ocid)).firstAwardAt;
        assertEq(uint256(awardedAt), uint256(ledger.recordByKey(keyOf(award)).timestamp), "first award time");

        uint64 later = START_TIME + 30 days;
        INoticeLedger.NoticeInput memory amendment = notice(ocid, "amendment", Stages.TENDER_AMENDMENT, sha256("m5"), later);
        bytes memory seal = sealNotice(cityPk, amendment);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.DeadlineAfterAward.selector, ocidHashOf(ocid), later, awardedAt)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(amendment, seal);
        assertEq(uint256(ledger.processOf(ocidHashOf(ocid)).deadline), 0, "the deadline stays undeclared");
    }

    /// @notice A process opened by a direct award may not receive a tender whose deadline is
    ///         still ahead; an archived tender whose deadline came before the award is accepted.
    function test_TenderAfterADirectAward_OnlyWithAnEarlierDeadline() public {
        string memory ocid = "ocds-213czf-000-00006";
        vm.warp(START_TIME + 10 days);
        INoticeLedger.NoticeInput memory award = notice(ocid, "award", Stages.AWARD, sha256("a6"), 0);
        anchorAs(cityPk, award);
        uint48 awardedAt = uint48(block.timestamp);

        uint64 ahead = START_TIME + 40 days;
        INoticeLedger.NoticeInput memory tender = notice(ocid, "tender", Stages.TENDER, sha256("t6"), ahead);
        bytes memory seal = sealNotice(cityPk, tender);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.DeadlineAfterAward.selector, ocidHashOf(ocid), ahead, awardedAt)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(tender, seal);

        uint64 archived = awardedAt - 5 days;
        anchorAs(cityPk, notice(ocid, "tender-archived", Stages.TENDER, sha256("t6b"), archived));
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(ocid));
        assertTrue(p.hasTender, "tender now on the ledger");
        assertEq(uint256(p.deadline), archived, "the archived deadline");
        assertGe(uint256(ledger.recordByKey(keyOf(award)).timestamp), uint256(p.deadline), "award after it");
    }

    // ------------------------------------------------------------ fuzz

    /// @notice An award is accepted exactly when the tender's deadline has been reached:
    ///         any time `gap` seconds before it is refused, any time at or after it accepted.
    function testFuzz_Award_AcceptedIffDeadlineReached(uint256 deadlineOffset, uint256 gap, bool early) public {
        string memory ocid = "ocds-213czf-000-00007";
        uint64 deadline = START_TIME + 30 days + uint64(bound(deadlineOffset, 0, 365 days));
        anchorAs(cityPk, notice(ocid, "tender", Stages.TENDER, sha256("t7"), deadline));
        gap = bound(gap, 1, 30 days);
        uint256 at = early ? deadline - gap : deadline + gap - 1;
        vm.warp(at);

        INoticeLedger.NoticeInput memory award = notice(ocid, "award", Stages.AWARD, sha256("a7"), 0);
        bytes memory seal = sealNotice(cityPk, award);
        if (early) {
            vm.expectRevert(
                abi.encodeWithSelector(INoticeLedger.DeadlineNotPassed.selector, ocidHashOf(ocid), deadline)
            );
        }
        vm.prank(cityKey);
        ledger.anchorNotice(award, seal);
        assertEq(ledger.recordByKey(keyOf(award)).digest != bytes32(0), !early, "anchored iff reached");
    }

    /// @notice An amendment moving the deadline is accepted exactly while it has not passed
    ///         and only to a time after the block's; keeping it or declaring none is always accepted.
    function testFuzz_Amendment_MovesDeadlineOnlyBeforeItPasses(uint64 declared, uint64 elapsed, bool update)
        public
    {
        elapsed = uint64(bound(elapsed, 0, 30 days));
        uint256 at = START_TIME + elapsed;
        vm.warp(at);
        // Half of the runs declare a time near the block's, where DeadlineInPast has its edge.
        if (declared % 2 == 0) declared = uint64(at - 2 + declared % 5);
        INoticeLedger.NoticeInput memory amendment =
            notice("amendment", update ? Stages.TENDER_UPDATE : Stages.TENDER_AMENDMENT, declared);
        bool moves = declared != 0 && declared != DEADLINE;
        bool passed = moves && at >= DEADLINE;
        bool inPast = moves && !passed && declared <= at;

        bytes memory seal = sealNotice(worksPk, amendment);
        if (passed) vm.expectRevert(_deadlinePassed(DEADLINE));
        else if (inPast) vm.expectRevert(_deadlineInPast(declared));
        vm.prank(worksKey);
        ledger.anchorNotice(amendment, seal);
        uint256 expected = moves && !passed && !inPast ? declared : DEADLINE;
        assertEq(uint256(ledger.processOf(ocidHash).deadline), expected, "deadline");
    }
}
