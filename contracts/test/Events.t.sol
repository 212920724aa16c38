// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {Vm} from "./utils/Vm.sol";
import {EventReplay} from "./utils/EventReplay.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title EventsTest
/// @notice Rule 5: every state change emits an event, and the event log alone is enough to
///         rebuild every record, so auditors need not trust any database.
contract EventsTest is LedgerTestBase {
    function _expectEmitFromLedger() private {
        vm.expectEmit(true, true, true, true, address(ledger));
    }

    // ------------------------------------------------------------ governance events

    function test_RegisterAgency_EmitsAgencyRegistered() public {
        _expectEmitFromLedger();
        emit INoticeLedger.AgencyRegistered(3, "Port Authority");
        vm.prank(governor);
        ledger.registerAgency("Port Authority");
    }

    function test_AddSealKey_EmitsSealKeyAdded() public {
        address fresh = makeAccount("fresh key");
        _expectEmitFromLedger();
        emit INoticeLedger.SealKeyAdded(city, fresh);
        vm.prank(governor);
        ledger.addSealKey(city, fresh);
    }

    function test_RevokeSealKey_EmitsSealKeyRevoked() public {
        _expectEmitFromLedger();
        emit INoticeLedger.SealKeyRevoked(works, worksKey2);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey2);
    }

    // ------------------------------------------------------------ anchoring events

    function test_AnchorNotice_EmitsNoticeAnchoredWithEverySealedField() public {
        INoticeLedger.NoticeInput memory planning = notice("planning", Stages.PLANNING, 0);
        anchorAs(worksPk, planning);
        // Every field non-zero, `previous` naming the planning release of the same process.
        INoticeLedger.NoticeInput memory n =
            amending(notice("tender", Stages.TENDER, START_TIME + 10 days), planning.releaseId);
        bytes memory seal = sealNotice(worksPk2, n);
        _expectEmitFromLedger();
        emit INoticeLedger.NoticeAnchored(keyOf(n), ocidHashOf(OCID), n.digest, works, worksKey2, n, seal);
        vm.prank(relayer);
        ledger.anchorNotice(n, seal);
    }

    function test_AnchorNotices_EmitsOneNoticeAnchoredPerNewNotice() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        notices[0] = notice("planning", Stages.PLANNING, 0);
        notices[1] = notice("document", Stages.DOCUMENT, 0);
        seals[0] = sealNotice(cityPk, notices[0]);
        seals[1] = sealNotice(cityPk, notices[1]);
        for (uint256 i; i < 2; ++i) {
            _expectEmitFromLedger();
            emit INoticeLedger.NoticeAnchored(
                keyOf(notices[i]), ocidHashOf(OCID), notices[i].digest, city, cityKey, notices[i], seals[i]
            );
        }
        vm.prank(cityKey);
        ledger.anchorNotices(notices, seals);
    }

    function test_AnchorBatch_EmitsBatchAnchored() public {
        INoticeLedger.BatchInput memory b = batch(sha256("tree head"), 1024, "works archive 2019");
        bytes memory seal = sealBatch(worksPk, b);
        _expectEmitFromLedger();
        emit INoticeLedger.BatchAnchored(b.root, works, worksKey, 1024, "works archive 2019", seal);
        vm.prank(relayer);
        ledger.anchorBatch(b, seal);
    }

    function test_ReserveOcidPrefix_EmitsOcidPrefixReserved() public {
        _expectEmitFromLedger();
        emit INoticeLedger.OcidPrefixReserved(city, keccak256("ocds-213czf"), "ocds-213czf");
        vm.prank(governor);
        ledger.reserveOcidPrefix(city, "ocds-213czf");
    }

    // ------------------------------------------------------------ the log rebuilds the ledger

    EventReplay.Row[] private _rows;

    /// @dev Drains the recorded logs into rows, each with the block that holds it, checking on
    ///      the way what an auditor checks: the emitter, the topics, and that the seal recovers
    ///      the logged signer from the sealed fields (the log's word is not trusted).
    function _capture() private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            assertEq(log.emitter, address(ledger), "emitter");
            assertEq(log.topics[0], INoticeLedger.NoticeAnchored.selector, "event");
            (EventReplay.Row memory row, INoticeLedger.NoticeInput memory n, bytes memory seal) =
                EventReplay.decode(log, block.number, block.timestamp);
            assertEq(recoverSigner(noticeHash(n), seal), row.signer, "seal recovers the logged signer");
            assertEq(row.key, keyOf(n), "key topic");
            assertEq(row.ocidHash, ocidHashOf(n.ocid), "ocidHash topic");
            assertEq(row.digest, n.digest, "digest topic");
            _rows.push(row);
        }
    }

    function _step(uint256 privateKey, INoticeLedger.NoticeInput memory n, bool viaRelayer) private {
        if (viaRelayer) relay(privateKey, n);
        else anchorAs(privateKey, n);
        _capture();
    }

    /// @notice Replays NoticeAnchored logs the way an auditor would, trusting only the seal,
    ///         and arrives at exactly the records and process states the ledger holds: agency,
    ///         notices, tender, deadline, cancellation and the time of the first award.
    function test_EventLog_RebuildsRecordsAndProcessState() public {
        uint64 deadline = START_TIME + 10 days;
        string memory direct = "ocds-213czf-000-00002";
        string memory cancelled = "ocds-213czf-000-00003";
        bytes32 file = sha256("%PDF-1.7 shared evidence");
        vm.recordLogs();

        INoticeLedger.NoticeInput memory tender = notice("tender", Stages.TENDER, deadline);
        _step(worksPk, tender, false);
        _step(worksPk2, amending(notice("amendment", Stages.TENDER_AMENDMENT, deadline + 2 days), tender.releaseId), true);
        _step(cityPk, notice(direct, "planning", Stages.PLANNING, sha256("p2"), 0), false);
        _step(cityPk, notice(direct, "award", Stages.AWARD, sha256("a2"), 0), true); // a direct award
        _step(cityPk, notice(cancelled, "tender", Stages.TENDER, sha256("t3"), 0), false);
        vm.roll(block.number + 300);
        vm.warp(block.timestamp + 1 hours);
        _step(cityPk, notice(cancelled, "cancellation", Stages.TENDER_CANCELLATION, sha256("c3"), 0), false);
        _step(cityPk, notice(direct, "evidence", Stages.DOCUMENT, file, 0), true);

        vm.roll(block.number + 50_000);
        vm.warp(deadline + 2 days);
        _step(worksPk, notice("award", Stages.AWARD, 0), false);
        vm.roll(block.number + 10);
        vm.warp(block.timestamp + 2 minutes);
        _step(worksPk, notice("contract", Stages.CONTRACT, 0), true);
        _step(worksPk, notice(OCID, "evidence", Stages.DOCUMENT, file, 0), false); // the same file
        vm.roll(block.number + 7_000);
        vm.warp(block.timestamp + 1 days);
        _step(worksPk2, notice("cancellation", Stages.TENDER_CANCELLATION, 0), true); // after the award
        _step(cityPk, notice(direct, "contract", Stages.CONTRACT, sha256("k2"), 0), false);
        assertEq(_rows.length, 12, "one log per notice");

        // Records: every field, block and time included, comes back by key.
        EventReplay.Row[] memory rows = _rows;
        for (uint256 i; i < rows.length; ++i) {
            assertRecord(
                ledger.recordByKey(rows[i].key),
                rows[i].digest,
                rows[i].signer,
                rows[i].agency,
                rows[i].blockNumber,
                rows[i].timestamp,
                rows[i].stage
            );
        }

        // Process states, from the rows alone.
        string[3] memory ocids = [OCID, direct, cancelled];
        for (uint256 i; i < ocids.length; ++i) {
            INoticeLedger.ProcessState memory rebuilt = EventReplay.processState(rows, ocidHashOf(ocids[i]));
            INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(ocids[i]));
            assertEq(uint256(p.agency), uint256(rebuilt.agency), "process agency");
            assertEq(uint256(p.notices), uint256(rebuilt.notices), "process notices");
            assertEq(p.hasTender, rebuilt.hasTender, "hasTender");
            assertEq(uint256(p.deadline), uint256(rebuilt.deadline), "deadline");
            assertEq(p.cancelled, rebuilt.cancelled, "cancelled");
            assertEq(uint256(p.firstAwardAt), uint256(rebuilt.firstAwardAt), "firstAwardAt");
        }

        // And the rebuild is not vacuous: each process shows what its notices did.
        INoticeLedger.ProcessState memory works_ = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(works_.agency), uint256(works), "OCID: works");
        assertEq(uint256(works_.notices), 6, "OCID: six notices");
        assertEq(uint256(works_.deadline), uint256(deadline + 2 days), "OCID: the amended deadline");
        assertTrue(works_.hasTender && works_.cancelled, "OCID: tendered, then cancelled");
        assertEq(uint256(works_.firstAwardAt), uint256(deadline + 2 days), "OCID: the award's block time");
        INoticeLedger.ProcessState memory direct_ = ledger.processOf(ocidHashOf(direct));
        assertEq(uint256(direct_.agency), uint256(city), "direct: city");
        assertFalse(direct_.hasTender || direct_.cancelled, "direct: no tender");
        assertEq(uint256(direct_.firstAwardAt), uint256(START_TIME), "direct: awarded at once");
        INoticeLedger.ProcessState memory cancelled_ = ledger.processOf(ocidHashOf(cancelled));
        assertTrue(cancelled_.hasTender && cancelled_.cancelled, "cancelled: tendered, then cancelled");
        assertEq(uint256(cancelled_.firstAwardAt), 0, "cancelled: no award");
        assertEq(uint256(cancelled_.deadline), 0, "cancelled: no deadline");
    }
}
