// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerHandler} from "./invariant/LedgerHandler.sol";
import {InvariantBase} from "./utils/InvariantBase.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title InvariantsTest
/// @notice Whatever sequence of agencies, relayers, governance, outsiders and passing time
///         the fuzzer produces, the ledger stays consistent with the handler's ghost account:
///         outsiders and revoked keys change nothing, records are append-only, roles stay
///         with the expected accounts and rule 4 holds for every award or contract.
contract InvariantsTest is LedgerTestBase, InvariantBase {
    LedgerHandler internal handler;
    address internal relayer2;
    uint256 internal cityPk2;

    function setUp() public override {
        super.setUp();
        relayer2 = makeAccount("relayer 2");
        address cityKey2;
        (cityPk2, cityKey2) = makeKey("city seal 2");
        vm.prank(governor);
        ledger.addSealKey(city, cityKey2);

        uint256[] memory pks = new uint256[](4);
        uint32[] memory agencies = new uint32[](4);
        (pks[0], pks[1], pks[2], pks[3]) = (worksPk, worksPk2, cityPk, cityPk2);
        (agencies[0], agencies[1], agencies[2], agencies[3]) = (works, works, city, city);
        handler = new LedgerHandler(ledger, admin, governor, relayer, relayer2, pks, agencies, 2);
        vm.label(address(handler), "handler");

        // Half of the actions anchor; the rest govern, pass time or come from outsiders.
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = LedgerHandler.anchorNotice.selector;
        actions[1] = LedgerHandler.anchorNotices.selector;
        actions[2] = LedgerHandler.anchorBatch.selector;
        actions[3] = LedgerHandler.govern.selector;
        actions[4] = LedgerHandler.advanceTime.selector;
        actions[5] = LedgerHandler.outsiderActs.selector;
        targetContract(address(handler), actions);
    }

    // ------------------------------------------------------------ invariants

    /// @notice Outsiders, unregistered and revoked keys and unauthorised senders never get a
    ///         call through, and the key registry is exactly what governance made it.
    function invariant_OutsidersAndRevokedKeysChangeNothing() public view {
        assertEq(handler.forbiddenSuccesses(), 0, handler.lastViolation());
        address[] memory keys = handler.sealKeys();
        for (uint256 i; i < keys.length; ++i) {
            (uint32 agency,, uint40 revokedBlock) = ledger.sealKey(keys[i]);
            assertEq(uint256(agency), uint256(handler.agencyOfKey(keys[i])), "key agency");
            assertEq(uint256(revokedBlock), handler.revokedBlockOf(keys[i]), "key revocation");
        }
        address[] memory strangers = handler.outsiders();
        for (uint256 i; i < strangers.length; ++i) {
            (uint32 agency,,) = ledger.sealKey(strangers[i]);
            assertEq(uint256(agency), 0, "an outsider became a seal key");
        }
        _assertCounts();
    }

    /// @notice Every digest stored under a key stays there, unchanged, with the same signer,
    ///         agency, block, time and stage; batch records too; counts only ever go up, by
    ///         exactly what was added.
    function invariant_RecordsAreAppendOnly() public view {
        assertEq(handler.appendOnlyViolations(), 0, handler.lastViolation());
        assertEq(handler.bookkeepingViolations(), 0, handler.lastViolation());
        LedgerHandler.GhostNotice[] memory notices = handler.ghostNotices();
        bytes32[] memory keys = new bytes32[](notices.length);
        bytes32[] memory digests = new bytes32[](notices.length);
        for (uint256 i; i < notices.length; ++i) {
            (keys[i], digests[i]) = (notices[i].key, notices[i].digest);
        }
        // The bulk views, read once per check, must agree with the ghost for every record.
        INoticeLedger.NoticeRecord[] memory byKey = ledger.recordsByKey(keys);
        INoticeLedger.NoticeRecord[] memory byDigest = ledger.recordsByDigest(digests);
        for (uint256 i; i < notices.length; ++i) {
            _expectRecord(byKey[i], notices[i]);
            _expectRecord(byDigest[i], notices[i]);
        }
        if (notices.length != 0) {
            LedgerHandler.GhostNotice memory last = notices[notices.length - 1];
            assertSameRecord(ledger.recordByKey(last.key), byKey[notices.length - 1]);
        }

        (bytes32[] memory roots, LedgerHandler.GhostBatch[] memory batches) = handler.ghostBatches();
        for (uint256 i; i < roots.length; ++i) {
            INoticeLedger.BatchRecord memory r = ledger.batchRecord(roots[i]);
            assertEq(r.signer, batches[i].signer, "batch signer");
            assertEq(uint256(r.agency), uint256(batches[i].agency), "batch agency");
            assertEq(uint256(r.blockNumber), batches[i].blockNumber, "batch block");
            assertEq(uint256(r.timestamp), batches[i].timestamp, "batch time");
        }
        (bytes32[] memory ids, LedgerHandler.GhostProcess[] memory processes) = handler.ghostProcesses();
        for (uint256 i; i < ids.length; ++i) {
            assertEq(uint256(ledger.processOf(ids[i]).notices), uint256(processes[i].notices), "process notice count");
        }
        _assertCounts();
    }

    /// @notice Only the admin holds DEFAULT_ADMIN_ROLE, only admin and governor hold
    ///         GOVERNANCE_ROLE, only the relayers the admin appointed hold RELAYER_ROLE.
    function invariant_RolesStayWithExpectedAccounts() public view {
        assertEq(ledger.defaultAdmin(), admin, "defaultAdmin");
        (address pendingAdmin, uint48 schedule) = ledger.pendingDefaultAdmin();
        assertEq(pendingAdmin, address(0), "no pending admin");
        assertEq(uint256(schedule), 0, "no admin schedule");
        assertEq(uint256(ledger.defaultAdminDelay()), ADMIN_DELAY, "admin delay");

        address[] memory keys = handler.sealKeys();
        address[] memory strangers = handler.outsiders();
        address[] memory accounts = new address[](5 + keys.length + strangers.length);
        (accounts[0], accounts[1], accounts[2], accounts[3], accounts[4]) =
            (admin, governor, relayer, relayer2, address(handler));
        for (uint256 i; i < keys.length; ++i) {
            accounts[5 + i] = keys[i];
        }
        for (uint256 i; i < strangers.length; ++i) {
            accounts[5 + keys.length + i] = strangers[i];
        }
        bool relayer2Active = handler.relayer2Active();
        for (uint256 i; i < accounts.length; ++i) {
            address a = accounts[i];
            _expectRole(DEFAULT_ADMIN_ROLE, a, a == admin, "DEFAULT_ADMIN_ROLE holder");
            _expectRole(GOVERNANCE_ROLE, a, a == admin || a == governor, "GOVERNANCE_ROLE holder");
            _expectRole(RELAYER_ROLE, a, a == relayer || (a == relayer2 && relayer2Active), "RELAYER_ROLE holder");
        }
    }

    /// @notice Rule 2 and rule 4: every process keeps its first agency; no award or contract
    ///         is older than its process's deadline (whenever that deadline was declared), nor
    ///         anchored after a cancellation; process state matches the ghost.
    function invariant_LifecycleRulesHold() public view {
        assertEq(handler.lifecycleViolations(), 0, handler.lastViolation());
        (bytes32[] memory ids, LedgerHandler.GhostProcess[] memory processes) = handler.ghostProcesses();
        for (uint256 i; i < ids.length; ++i) {
            INoticeLedger.ProcessState memory s = ledger.processOf(ids[i]);
            assertEq(uint256(s.agency), uint256(processes[i].agency), "rule 2: process agency");
            assertEq(uint256(s.deadline), uint256(processes[i].deadline), "process deadline");
            assertEq(s.hasTender, processes[i].hasTender, "process hasTender");
            assertEq(s.cancelled, processes[i].cancelled, "process cancelled");
        }
        LedgerHandler.GhostNotice[] memory notices = handler.ghostNotices();
        for (uint256 i; i < notices.length; ++i) {
            LedgerHandler.GhostNotice memory g = notices[i];
            if (g.stage < Stages.AWARD || g.stage > Stages.CONTRACT_TERMINATION) continue;
            if (g.tenderBefore) {
                assertFalse(g.cancelledBefore, "rule 4: award or contract after a cancellation");
                assertGe(g.timestamp, uint256(g.deadlineBefore), "rule 4: award or contract before the deadline");
            }
            LedgerHandler.GhostProcess memory p = processes[_indexOf(ids, g.ocidHash)];
            if (p.cancelled) assertLt(g.seq, p.cancelSeq, "rule 4: award or contract after a cancellation");
            assertGe(g.timestamp, uint256(ledger.processOf(g.ocidHash).deadline), "rule 4: award older than its deadline");
        }
    }

    /// @dev A cheap comparison first, field-by-field assertions only on a mismatch: that
    ///      keeps the check fast enough to run after every call of every run.
    function _expectRecord(INoticeLedger.NoticeRecord memory r, LedgerHandler.GhostNotice memory g) private pure {
        bool same = r.digest == g.digest && r.signer == g.signer && r.agency == g.agency
            && r.blockNumber == g.blockNumber && r.timestamp == g.timestamp && r.stage == g.stage;
        if (!same) assertRecord(r, g.digest, g.signer, g.agency, g.blockNumber, g.timestamp, g.stage);
    }

    function _expectRole(bytes32 role, address account, bool expected, string memory what) private view {
        bool held = ledger.hasRole(role, account);
        if (held != expected) assertEq(held, expected, what);
    }

    function _indexOf(bytes32[] memory ids, bytes32 id) private pure returns (uint256 i) {
        while (ids[i] != id) ++i;
    }

    function _assertCounts() private view {
        (uint32 agencies, uint64 batches) = ledger.counts();
        assertEq(uint256(agencies), uint256(handler.ghostAgencies()), "agency count");
        assertEq(uint256(batches), uint256(handler.ghostBatchCount()), "batch count");
    }

    // ------------------------------------------------------------ the handler itself

    /// @notice Guards against vacuous invariants: a fixed script of handler actions must
    ///         anchor notices, lists and batches, meet every rule-4 situation and be refused
    ///         where the rules say so - then all invariants must still hold.
    function test_Handler_ExercisesTheLedger() public {
        for (uint256 i; i < 60; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            handler.anchorNotice(seed, seed >> 1, seed >> 16, i % 3 == 0);
            if (i % 4 == 0) handler.anchorNotices(seed >> 2, seed >> 24, i % 8 == 0);
            if (i % 5 == 0) handler.anchorBatch(seed, seed >> 3, seed >> 32, seed >> 40, i % 2 == 0);
            if (i % 7 == 0) handler.govern(seed >> 48, seed >> 4);
            if (i % 10 == 0) handler.advanceTime(seed >> 5);
            if (i % 6 == 0) handler.outsiderActs(seed, seed >> 6, seed >> 7, seed >> 56, seed >> 64);
        }
        assertGe(handler.anchoredNotices(), 20, "notices anchored");
        assertGe(handler.anchoredBatches(), 3, "batches anchored");
        assertGe(handler.awardsUnderTender(), 2, "awards or contracts after a tender");
        assertGe(handler.refusalsBy(INoticeLedger.DeadlineNotPassed.selector), 1, "awards refused before a deadline");
        assertGe(handler.refusalsBy(INoticeLedger.DigestConflict.selector), 1, "conflicting digests refused");
        assertGe(handler.refusalsBy(INoticeLedger.ProcessOfOtherAgency.selector), 1, "other agencies refused");
        assertGe(handler.refusalsBy(INoticeLedger.RevokedSealKey.selector), 1, "revoked keys refused");
        invariant_OutsidersAndRevokedKeysChangeNothing();
        invariant_RecordsAreAppendOnly();
        invariant_RolesStayWithExpectedAccounts();
        invariant_LifecycleRulesHold();
    }
}
