// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerHandler} from "./invariant/LedgerHandler.sol";
import {LifecycleSpec} from "./invariant/LifecycleSpec.sol";
import {EventReplay} from "./utils/EventReplay.sol";
import {InvariantBase} from "./utils/InvariantBase.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title InvariantsTest
/// @notice Whatever sequence of agencies, relayers, governance, outsiders and passing time
///         the fuzzer produces, the ledger stays consistent with the handler's ghost account:
///         outsiders and revoked keys change nothing, records are append-only (documents
///         scoped to their process), roles and reserved prefixes stay with the expected
///         accounts, every process obeys rule 4 as recomputed from its log of accepted notices,
///         and the NoticeAnchored logs alone rebuild every process state.
contract InvariantsTest is LedgerTestBase, InvariantBase {
    LedgerHandler internal handler;
    address internal relayer2;
    uint256 internal cityPk2;
    uint32 internal port;
    uint256 internal portPk;

    function setUp() public override {
        super.setUp();
        relayer2 = makeAccount("relayer 2");
        address cityKey2;
        address portKey;
        (cityPk2, cityKey2) = makeKey("city seal 2");
        (portPk, portKey) = makeKey("port seal");
        vm.startPrank(governor);
        ledger.addSealKey(city, cityKey2);
        port = ledger.registerAgency("Port Authority");
        ledger.addSealKey(port, portKey);
        vm.stopPrank();

        uint256[] memory pks = new uint256[](5);
        uint32[] memory agencies = new uint32[](5);
        (pks[0], pks[1], pks[2], pks[3], pks[4]) = (worksPk, worksPk2, cityPk, cityPk2, portPk);
        (agencies[0], agencies[1], agencies[2], agencies[3], agencies[4]) = (works, works, city, city, port);
        handler = new LedgerHandler(ledger, admin, governor, relayer, relayer2, pks, agencies, 3);
        vm.label(address(handler), "handler");

        // Most actions anchor; the rest govern, pass time or come from outsiders.
        bytes4[] memory actions = new bytes4[](7);
        actions[0] = LedgerHandler.anchorNotice.selector;
        actions[1] = LedgerHandler.anchorNotices.selector;
        actions[2] = LedgerHandler.continueProcess.selector;
        actions[3] = LedgerHandler.anchorBatch.selector;
        actions[4] = LedgerHandler.govern.selector;
        actions[5] = LedgerHandler.advanceTime.selector;
        actions[6] = LedgerHandler.outsiderActs.selector;
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
    ///         agency, block, time and stage; a release is found by its digest too, a document
    ///         never (rule 7: recordByDigest gives the release with that digest, or nothing);
    ///         batch records too; counts only ever go up, by exactly what was added.
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
            if (notices[i].stage != Stages.DOCUMENT) {
                _expectRecord(byDigest[i], notices[i]);
                continue;
            }
            uint256 release = handler.releaseWithDigest(notices[i].digest);
            if (release == 0) assertNoRecord(byDigest[i]);
            else _expectRecord(byDigest[i], notices[release - 1]);
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

    /// @notice Rule 2 and rule 4, judged by the specification from each process's log of
    ///         accepted notices alone (LifecycleSpec): every notice comes from the first one's
    ///         agency; no award or contract before the deadline in force at its time while a
    ///         tender is on the ledger, nor after a cancellation, nor older than the deadline;
    ///         no deadline moved once passed or to its own block time or before; no tender
    ///         after an amendment; every `previous` names a release accepted earlier in the
    ///         process. The state the log implies is the ledger's processOf, field by field.
    ///         And no single notice was refused without the ghost seeing the cause.
    function invariant_LifecycleRulesHold() public view {
        assertEq(handler.lifecycleViolations(), 0, handler.lastViolation());
        assertEq(handler.unjustifiedRefusals(), 0, handler.lastViolation());
        bytes32[] memory ids = handler.processIds();
        for (uint256 i; i < ids.length; ++i) {
            LifecycleSpec.Entry[] memory log = handler.ghostLog(ids[i]);
            (LifecycleSpec.State memory s, string memory broken) = LifecycleSpec.replay(log, log.length);
            assertTrue(bytes(broken).length == 0, string.concat("rule 4: ", broken));
            INoticeLedger.ProcessState memory p = ledger.processOf(ids[i]);
            bool same = p.agency == s.agency && p.notices == s.notices && p.hasTender == s.hasTender
                && p.cancelled == s.cancelled && p.deadline == s.deadline && p.firstAwardAt == s.firstAwardAt;
            if (same) continue;
            assertEq(uint256(p.agency), uint256(s.agency), "rule 2: process agency");
            assertEq(uint256(p.notices), uint256(s.notices), "process notice count");
            assertEq(p.hasTender, s.hasTender, "process hasTender");
            assertEq(p.cancelled, s.cancelled, "process cancelled");
            assertEq(uint256(p.deadline), uint256(s.deadline), "process deadline in force");
            assertEq(uint256(p.firstAwardAt), uint256(s.firstAwardAt), "process firstAwardAt");
        }
    }

    /// @notice Rule 5: the NoticeAnchored logs, one per accepted notice and in order, carry
    ///         each notice's key, process, digest, agency, signer and stage; replayed alone
    ///         (with their blocks' times) they rebuild every process state: agency, notices,
    ///         tender, deadline, cancellation and the time of the first award.
    function invariant_EventLogRebuildsProcesses() public view {
        EventReplay.Row[] memory rows = handler.eventRows();
        LedgerHandler.GhostNotice[] memory notices = handler.ghostNotices();
        assertEq(rows.length, notices.length, "one NoticeAnchored log per accepted notice");
        for (uint256 i; i < rows.length; ++i) {
            EventReplay.Row memory r = rows[i];
            LedgerHandler.GhostNotice memory g = notices[i];
            bool same = r.key == g.key && r.ocidHash == g.ocidHash && r.digest == g.digest && r.agency == g.agency
                && r.signer == g.signer && r.stage == g.stage && r.blockNumber == g.blockNumber
                && r.timestamp == g.timestamp;
            assertTrue(same, "a NoticeAnchored log differs from the notice it reports");
        }
        bytes32[] memory ids = handler.processIds();
        for (uint256 i; i < ids.length; ++i) {
            INoticeLedger.ProcessState memory rebuilt = EventReplay.processState(rows, ids[i]);
            INoticeLedger.ProcessState memory p = ledger.processOf(ids[i]);
            if (EventReplay.same(rebuilt, p)) continue;
            assertEq(uint256(p.agency), uint256(rebuilt.agency), "rebuilt agency");
            assertEq(uint256(p.notices), uint256(rebuilt.notices), "rebuilt notices");
            assertEq(p.hasTender, rebuilt.hasTender, "rebuilt hasTender");
            assertEq(uint256(p.deadline), uint256(rebuilt.deadline), "rebuilt deadline");
            assertEq(p.cancelled, rebuilt.cancelled, "rebuilt cancelled");
            assertEq(uint256(p.firstAwardAt), uint256(rebuilt.firstAwardAt), "rebuilt firstAwardAt");
        }
    }

    /// @notice Rule 2's reservations: a prefix is reserved once, for the agency governance
    ///         named, and keeps that owner; a malformed prefix is never reserved. (That no
    ///         process opens under another agency's prefix is checked on every anchoring.)
    function invariant_OcidPrefixesStayWithTheirOwner() public view {
        assertEq(handler.lifecycleViolations(), 0, handler.lastViolation());
        string[] memory prefixes = handler.prefixCandidates();
        for (uint256 i; i < prefixes.length; ++i) {
            assertEq(
                uint256(ledger.prefixOwner(keccak256(bytes(prefixes[i])))),
                uint256(handler.ghostPrefixOwner(i)),
                "prefix owner"
            );
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

    function _assertCounts() private view {
        (uint32 agencies, uint64 batches) = ledger.counts();
        assertEq(uint256(agencies), uint256(handler.ghostAgencies()), "agency count");
        assertEq(uint256(batches), uint256(handler.ghostBatchCount()), "batch count");
    }

    // ------------------------------------------------------------ the handler itself

    /// @dev Selectors the fixed script must meet at least once, and what they mean.
    function _expectedRefusals() private pure returns (bytes4[11] memory selectors, string[11] memory what) {
        selectors = [
            INoticeLedger.DeadlineNotPassed.selector,
            INoticeLedger.DigestConflict.selector,
            INoticeLedger.DigestAlreadyAnchored.selector,
            INoticeLedger.ProcessOfOtherAgency.selector,
            INoticeLedger.RevokedSealKey.selector,
            INoticeLedger.PreviousNotAnchored.selector,
            INoticeLedger.TenderAfterAmendment.selector,
            INoticeLedger.DeadlineInPast.selector,
            INoticeLedger.DeadlinePassed.selector,
            INoticeLedger.OcidPrefixOfOtherAgency.selector,
            INoticeLedger.BatchAlreadyAnchored.selector
        ];
        what = [
            "awards refused before a deadline",
            "conflicting digests refused",
            "release digests reused under another key refused",
            "other agencies refused",
            "revoked keys refused",
            "previous releases not in the process refused",
            "tenders after an amendment refused",
            "deadlines moved into the past refused",
            "passed deadlines moved refused",
            "squatted prefixes refused",
            "batch roots anchored twice refused"
        ];
    }

    function _exercised() private view returns (bool) {
        if (handler.anchoredNotices() < 40 || handler.anchoredBatches() < 3 || handler.awardsUnderTender() < 2) {
            return false;
        }
        if (handler.linkedNotices() < 2 || handler.filesSharedAcrossProcesses() < 1 || handler.prefixesReserved() < 1) {
            return false;
        }
        if (handler.batchesOverAnchoredNotices() < 1) return false;
        (bytes4[11] memory selectors,) = _expectedRefusals();
        for (uint256 i; i < selectors.length; ++i) {
            if (handler.refusalsBy(selectors[i]) == 0) return false;
        }
        return true;
    }

    /// @notice Guards against vacuous invariants: a fixed script of handler actions (160
    ///         steps, more until it has met everything, at most 600) must anchor notices, lists
    ///         and batches, meet every rule-4 situation, link releases, share files across
    ///         processes, reserve prefixes and be refused where the rules say so - then all
    ///         invariants must still hold.
    function test_Handler_ExercisesTheLedger() public {
        uint256 step;
        for (; step < 600 && (step < 160 || !_exercised()); ++step) {
            uint256 seed = uint256(keccak256(abi.encode(step)));
            if (step == 3 || step % 40 == 0) handler.reserveOcidPrefix(step == 3 ? 0 : seed);
            handler.anchorNotice(seed, seed >> 1, seed >> 16, step % 3 == 0);
            if (step % 2 == 0) handler.continueProcess(seed >> 8, seed >> 9, step % 4 == 0);
            if (step % 4 == 0) handler.anchorNotices(seed >> 2, seed >> 24, step % 8 == 0);
            if (step % 5 == 0) handler.anchorBatch(seed, seed >> 3, seed >> 32, seed >> 40, step % 2 == 0);
            if (step % 7 == 0) handler.govern(seed >> 48, seed >> 4);
            if (step % 10 == 0) handler.advanceTime(seed >> 5);
            if (step % 6 == 0) handler.outsiderActs(seed, seed >> 6, seed >> 7, seed >> 56, seed >> 64);
        }
        emit log_named_uint("script steps", step);
        assertGe(handler.anchoredNotices(), 40, "notices anchored");
        assertGe(handler.anchoredBatches(), 3, "batches anchored");
        assertGe(handler.awardsUnderTender(), 2, "awards or contracts after a tender");
        assertGe(handler.linkedNotices(), 2, "notices naming a previous release");
        assertGe(handler.filesSharedAcrossProcesses(), 1, "one file anchored for several processes");
        assertGe(handler.prefixesReserved(), 1, "prefixes reserved");
        assertGe(handler.batchesOverAnchoredNotices(), 1, "batch leaves naming anchored notices");
        (bytes4[11] memory selectors, string[11] memory what) = _expectedRefusals();
        for (uint256 i; i < selectors.length; ++i) {
            assertGe(handler.refusalsBy(selectors[i]), 1, what[i]);
        }
        invariant_OutsidersAndRevokedKeysChangeNothing();
        invariant_RecordsAreAppendOnly();
        invariant_RolesStayWithExpectedAccounts();
        invariant_LifecycleRulesHold();
        invariant_EventLogRebuildsProcesses();
        invariant_OcidPrefixesStayWithTheirOwner();
    }
}
