// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {Vm} from "./utils/Vm.sol";
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
        INoticeLedger.NoticeInput memory n = notice("tender", Stages.TENDER, START_TIME + 10 days);
        n.previous = keyOf(OCID, releaseIdOf(OCID, "planning"));
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

    // ------------------------------------------------------------ the log rebuilds the ledger

    /// @notice Replays NoticeAnchored logs the way an auditor would, trusting only the seal,
    ///         and arrives at exactly the records and process state the ledger holds.
    function test_EventLog_RebuildsRecordsAndProcessState() public {
        uint64 deadline = START_TIME + 10 days;
        INoticeLedger.NoticeInput[4] memory sequence = [
            notice("tender", Stages.TENDER, deadline),
            notice("amendment", Stages.TENDER_AMENDMENT, deadline + 2 days),
            notice("award", Stages.AWARD, 0),
            notice("contract", Stages.CONTRACT, 0)
        ];
        vm.recordLogs();
        anchorAs(worksPk, sequence[0]);
        relay(worksPk2, sequence[1]);
        vm.warp(deadline + 2 days);
        anchorAs(worksPk, sequence[2]);
        relay(worksPk, sequence[3]);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 4, "one log per notice");

        uint32 agency;
        uint64 rebuiltDeadline;
        bool hasTender;
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            assertEq(log.emitter, address(ledger), "emitter");
            assertEq(log.topics[0], INoticeLedger.NoticeAnchored.selector, "event");
            (uint32 logAgency, address logSigner, INoticeLedger.NoticeInput memory n, bytes memory seal) =
                abi.decode(log.data, (uint32, address, INoticeLedger.NoticeInput, bytes));

            // The auditor recovers the signer from the sealed fields, not from the log's word.
            assertEq(recoverSigner(noticeHash(n), seal), logSigner, "seal recovers the logged signer");
            assertEq(log.topics[1], keyOf(n), "key topic");
            assertEq(log.topics[2], ocidHashOf(n.ocid), "ocidHash topic");
            assertEq(log.topics[3], n.digest, "digest topic");

            INoticeLedger.NoticeRecord memory stored = ledger.recordByKey(log.topics[1]);
            assertEq(stored.digest, n.digest, "digest");
            assertEq(stored.signer, logSigner, "signer");
            assertEq(uint256(stored.agency), uint256(logAgency), "agency");
            assertEq(uint256(stored.stage), uint256(n.stage), "stage");

            if (agency == 0) agency = logAgency;
            if (n.stage >= Stages.TENDER && n.stage <= Stages.TENDER_UPDATE) {
                hasTender = true;
                if (n.deadline != 0) rebuiltDeadline = n.deadline;
            }
        }
        INoticeLedger.ProcessState memory p = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(p.agency), uint256(agency), "process agency");
        assertEq(uint256(p.notices), logs.length, "process notices");
        assertEq(p.hasTender, hasTender, "hasTender");
        assertEq(uint256(p.deadline), uint256(rebuiltDeadline), "deadline");
    }
}
