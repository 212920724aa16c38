// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {NoticeLedger} from "../../src/NoticeLedger.sol";
import {INoticeLedger} from "../../src/INoticeLedger.sol";
import {Stages} from "../../src/Stages.sol";
import {EventReplay} from "../utils/EventReplay.sol";
import {SealHashing} from "../utils/SealHashing.sol";
import {TestBase} from "../utils/TestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {LifecycleSpec} from "./LifecycleSpec.sol";

/// @title LedgerHandler
/// @notice Drives the ledger for the invariant runner: three agencies, relayers, governance
///         and outsiders act on a small pool of ocids (under three publisher prefixes, in
///         several letter cases, and under none), release ids shared by every process, release
///         digests, evidence files shared by every process, and Merkle batches whose leaves are
///         notice keys and digests from the same pools. So notice keys, digests, batch leaves
///         and roots collide on purpose, between agencies and between the single-notice, list
///         and batch paths. Governance reserves prefixes as it goes; agencies continue their
///         processes at the edges of rule 4 (deadlines moved to the block time, awards at the
///         deadline, `previous` naming the process's own releases or other processes').
///
///         Ghost state is written only when a call succeeds, from what the handler itself
///         sealed - never read back from the ledger - so the invariants compare the ledger
///         against an independent account. Each process keeps a log of the notices it
///         accepted, in order ({LifecycleSpec.Entry}); rule 4 is judged from that log alone.
///         A call that succeeds where the rules say it must fail raises a violation counter;
///         a single notice refused with a lifecycle, rule-2 or rule-3 error is checked against
///         the ghost too, error arguments included (a refusal must have its cause). The
///         NoticeAnchored logs of every accepted notice are kept, decoded, for the rebuild.
contract LedgerHandler is TestBase {
    /// @notice A notice the handler saw anchored, with what the ledger must keep for it.
    struct GhostNotice {
        bytes32 key;
        bytes32 digest;
        bytes32 ocidHash;
        address signer;
        uint32 agency;
        uint8 stage;
        uint48 timestamp;
        uint64 blockNumber;
    }

    struct GhostBatch {
        address signer;
        uint32 agency;
        uint256 blockNumber;
        uint256 timestamp;
    }

    /// @dev Ocids: eight hot ones (every prefix, several letter cases) half of the time, the
    ///      rest from a wider pool, so fresh processes keep opening during a run.
    uint256 private constant OCIDS = 16;
    uint256 private constant HOT_OCIDS = 8;
    uint256 private constant PREFIXES = 3; // good ones; three malformed candidates follow them
    /// @dev Release ids: a hot few shared by every process (a quarter of the draws), the
    ///      rest from a wider pool, so keys collide often without filling up in one run.
    uint256 private constant RELEASES = 48;
    uint256 private constant HOT_RELEASES = 4;
    /// @dev Release digests: a hot few (reused under other keys), the rest seldom repeated.
    uint256 private constant RELEASE_DIGESTS = 4096;
    uint256 private constant HOT_DIGESTS = 4;
    uint256 private constant FILES = 4;
    uint256 private constant LEAVES = 6;
    uint256 private constant AGENCY_NAMES = 8;
    uint256 private constant MAX_OUTSIDERS_TRACKED = 16;

    NoticeLedger public immutable ledger;
    address public immutable admin;
    address public immutable governor;
    address public immutable relayer;
    /// @dev A second relayer whose role the admin grants and revokes during the run.
    address public immutable relayer2;

    uint256[] private _sealPks;
    address[] private _sealKeys;
    mapping(address key => uint32 agency) public agencyOfKey;
    mapping(address key => uint256 revokedBlock) public revokedBlockOf;
    bool public relayer2Active;

    // ------------------------------------------------------------ ghost state

    GhostNotice[] private _notices;
    mapping(bytes32 key => bytes32 digest) private _digestOf;
    /// @dev 1 + index in _notices of the release (non-document) anchored with a digest.
    mapping(bytes32 digest => uint256) public releaseWithDigest;
    /// @dev The first process an evidence file was anchored for.
    mapping(bytes32 digest => bytes32 ocidHash) private _fileFirstProcess;
    bytes32[] private _processIds;
    mapping(bytes32 ocidHash => LifecycleSpec.Entry[]) private _logs;
    mapping(bytes32 ocidHash => string) private _ocidText;
    /// @dev The specification's state of each process after its log, kept step by step with
    ///      LifecycleSpec.step (the invariant replays the whole log instead), and the release
    ///      ids each process accepted; the handler reads them to pick inputs and judge refusals.
    mapping(bytes32 ocidHash => LifecycleSpec.State) private _spec;
    mapping(bytes32 ocidHash => mapping(bytes32 releaseHash => bool)) private _released;
    /// @dev 1 + the prefix (of the pool) an ocid of the pool falls under, 0 for none. Written
    ///      by hand from the ocid table (the spec), not computed like the contract does.
    mapping(bytes32 ocidHash => uint256) private _prefixOfOcid;
    mapping(uint256 prefix => uint32 agency) public ghostPrefixOwner;
    EventReplay.Row[] private _rows;
    bytes32[] private _batchRoots;
    mapping(bytes32 root => GhostBatch) private _batches;
    mapping(bytes32 nameHash => bool) private _nameTaken;
    address[] private _outsiders;
    mapping(address => bool) private _outsiderSeen;

    uint32 public ghostAgencies;
    uint64 public ghostBatchCount;

    // ------------------------------------------------------------ violation counters

    /// @notice Successful calls by outsiders, unknown or revoked keys, or unauthorised senders.
    uint256 public forbiddenSuccesses;
    /// @notice Successful calls that would overwrite a record, reuse a release digest or a root.
    uint256 public appendOnlyViolations;
    /// @notice Successful calls that broke rule 2 (process agency, reserved prefixes), or a
    ///         batch that changed a notice record or a process.
    uint256 public lifecycleViolations;
    /// @notice Governance, counting or event behaviour that differs from the rules.
    uint256 public bookkeepingViolations;
    /// @notice Single notices refused with an error whose cause the ghost does not see.
    uint256 public unjustifiedRefusals;
    /// @notice What the last violation was, for the failure message.
    string public lastViolation;

    /// @notice How many calls of each kind succeeded (shows the campaign is not vacuous).
    uint256 public anchoredNotices;
    uint256 public anchoredBatches;
    uint256 public refusedCalls;
    /// @notice Refusals by custom error selector, and notable successes.
    mapping(bytes4 selector => uint256) public refusalsBy;
    uint256 public awardsUnderTender;
    uint256 public linkedNotices;
    uint256 public filesSharedAcrossProcesses;
    uint256 public prefixesReserved;
    uint256 public batchesOverAnchoredNotices;

    constructor(
        NoticeLedger ledger_,
        address admin_,
        address governor_,
        address relayer_,
        address relayer2_,
        uint256[] memory sealPks,
        uint32[] memory sealAgencies,
        uint32 agencies
    ) {
        ledger = ledger_;
        admin = admin_;
        governor = governor_;
        relayer = relayer_;
        relayer2 = relayer2_;
        for (uint256 i; i < sealPks.length; ++i) {
            address key = vm.addr(sealPks[i]);
            _sealPks.push(sealPks[i]);
            _sealKeys.push(key);
            agencyOfKey[key] = sealAgencies[i];
        }
        ghostAgencies = agencies;
        for (uint256 i; i < OCIDS; ++i) {
            (string memory ocid, uint256 prefix) = _ocid(i);
            _prefixOfOcid[keccak256(bytes(ocid))] = prefix;
        }
    }

    // ================================================================ actions

    /// @notice A seal key's notice, submitted by the key itself or by a relayer.
    function anchorNotice(uint256 keySeed, uint256 noticeSeed, uint256 stageSeed, bool viaRelayer) external {
        (uint256 pk, address signer) = _keyFor(keySeed, noticeSeed);
        _submitOne(pk, signer, _notice(noticeSeed, stageSeed), viaRelayer ? _relayer(keySeed) : signer);
    }

    /// @notice The agency of a process already on the ledger continues it: a tender-stage
    ///         notice moving (or keeping) its deadline to just before, at or after the block
    ///         time or the deadline in force, or an award or contract around that deadline;
    ///         half of the time naming one of the process's releases as `previous`. Inputs are
    ///         picked from the ghost log so that rule 4's edges are met often; what the ledger
    ///         must do with them is still judged by the specification alone.
    function continueProcess(uint256 processSeed, uint256 choice, bool viaRelayer) external {
        if (_processIds.length == 0) return;
        (INoticeLedger.NoticeInput memory n, uint32 agency) =
            _continuation(_processIds[processSeed % _processIds.length], _mix(choice, "continue"));
        (uint256 pk, address signer) = _activeKeyOf(agency, choice);
        if (signer == address(0)) return;
        _submitOne(pk, signer, n, viaRelayer ? _relayer(choice) : signer);
    }

    function _continuation(bytes32 ocidHash, uint256 h)
        private
        view
        returns (INoticeLedger.NoticeInput memory n, uint32 agency)
    {
        LifecycleSpec.State memory s = _spec[ocidHash];
        LifecycleSpec.Entry[] storage log = _logs[ocidHash];
        uint8[6] memory stages = [
            Stages.TENDER_AMENDMENT, Stages.TENDER_UPDATE, Stages.TENDER, Stages.AWARD, Stages.CONTRACT, Stages.TENDER_AMENDMENT
        ];
        uint256 kind = (h >> 8) % 7;
        uint64 deadline;
        if (kind == 1) deadline = uint64(block.timestamp - (h >> 16) % 2); // now, or one second before
        else if (kind == 2) deadline = uint64(block.timestamp + 1 + (h >> 16) % 1 hours);
        else if (kind == 3) deadline = s.deadline; // kept (or none)
        else if (kind == 4) deadline = s.deadline == 0 ? uint64(block.timestamp + 1 days) : s.deadline + 1 hours;
        else if (kind == 5) deadline = s.deadline > 1 ? s.deadline - 1 : uint64(block.timestamp - 1 days);
        else if (kind == 6) deadline = uint64(block.timestamp + 3 days);
        n = INoticeLedger.NoticeInput({
            ocid: _ocidText[ocidHash],
            releaseId: _releaseId(HOT_RELEASES + (h >> 40) % (256 - HOT_RELEASES)),
            stage: stages[h % 6],
            digest: _releaseDigest(RELEASE_DIGESTS + (h >> 64) % 1_000_000),
            previous: (h >> 24) % 2 == 0 && log.length != 0 ? log[(h >> 32) % log.length].releaseHash : bytes32(0),
            deadline: deadline
        });
        agency = s.agency;
    }

    function _submitOne(uint256 pk, address signer, INoticeLedger.NoticeInput memory n, address sender) private {
        bytes memory seal = _sign(pk, _noticeHash(n));
        vm.recordLogs();
        vm.prank(sender);
        try ledger.anchorNotice(n, seal) {
            _recordNotice(n, signer, sender);
            _captureLogs(1);
        } catch (bytes memory reason) {
            vm.getRecordedLogs();
            _refused(reason);
            _justify(reason, n, signer, sender);
        }
    }

    /// @notice Up to four notices in one call; through a relayer they may come from several keys.
    function anchorNotices(uint256 seed, uint256 count, bool viaRelayer) external {
        count = bound(count, 1, 4);
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](count);
        bytes[] memory seals = new bytes[](count);
        address[] memory signers = new address[](count);
        for (uint256 i; i < count; ++i) {
            uint256 noticeSeed = uint256(keccak256(abi.encode(seed, i)));
            // Through a relayer each notice has its own sealer; otherwise one key seals all.
            (uint256 pk, address signer) =
                viaRelayer ? _keyFor(noticeSeed, noticeSeed) : _keyFor(seed, uint256(keccak256(abi.encode(seed, 0))));
            notices[i] = _notice(noticeSeed, noticeSeed >> 200);
            seals[i] = _sign(pk, _noticeHash(notices[i]));
            signers[i] = signer;
        }
        address sender = viaRelayer ? _relayer(seed) : signers[0];
        vm.recordLogs();
        vm.prank(sender);
        try ledger.anchorNotices(notices, seals) returns (uint256 anchoredCount) {
            uint256 expected;
            for (uint256 i; i < count; ++i) {
                bytes32 anchored = _digestOf[_key(notices[i])];
                if (anchored != 0 && anchored == notices[i].digest) continue; // a retry, skipped
                _recordNotice(notices[i], signers[i], sender);
                ++expected;
            }
            if (anchoredCount != expected) _bookkeeping("anchorNotices returned a wrong anchoredCount");
            _captureLogs(expected);
        } catch (bytes memory reason) {
            vm.getRecordedLogs();
            _refused(reason);
        }
    }

    /// @notice A sealed Merkle batch (RFC 9162 tree head) over one to three leaves taken from
    ///         the notices' own pools (notice key || digest), so that roots repeat and leaves
    ///         name notices anchored one by one too; roots are sometimes zero, sizes and labels
    ///         sometimes empty.
    function anchorBatch(uint256 keySeed, uint256 leavesSeed, uint256 sizeSeed, uint256 labelSeed, bool viaRelayer)
        external
    {
        uint256 count = 1 + leavesSeed % 3;
        bytes[] memory leaves = new bytes[](count);
        bytes32[] memory leafOcids = new bytes32[](count);
        bytes32[] memory leafKeys = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            (leaves[i], leafOcids[i], leafKeys[i]) = _leaf((leavesSeed >> (8 * (i + 1))) % LEAVES);
        }
        bytes32 root = sizeSeed % 16 == 0 ? bytes32(0) : _merkleRoot(leaves, 0, count);
        // forge-lint: disable-next-line(unsafe-typecast) at most 3
        uint32 size = sizeSeed % 16 == 1 ? 0 : uint32(count);
        INoticeLedger.BatchInput memory b =
            INoticeLedger.BatchInput({root: root, size: size, label: labelSeed % 8 == 0 ? "" : "archive"});
        _submitBatch(b, keySeed, viaRelayer, leafOcids, leafKeys);
    }

    function _submitBatch(
        INoticeLedger.BatchInput memory b,
        uint256 keySeed,
        bool viaRelayer,
        bytes32[] memory leafOcids,
        bytes32[] memory leafKeys
    ) private {
        (uint256 pk, address signer) = _sealKey(keySeed);
        bytes memory seal = _sign(pk, SealHashing.typedDataHash(SealHashing.batchStructHash(b), block.chainid, address(ledger)));
        address sender = viaRelayer ? _relayer(keySeed) : signer;
        // What the leaves' processes and records are before: a batch must change neither.
        bytes32 before = _leavesState(leafOcids, leafKeys);
        vm.prank(sender);
        try ledger.anchorBatch(b, seal) {
            _checkSealUse(signer, sender, "anchorBatch");
            if (b.root == 0 || b.size == 0 || bytes(b.label).length == 0) _appendOnly("anchorBatch accepted a bad batch");
            if (_batches[b.root].signer != address(0)) _appendOnly("anchorBatch re-anchored a root");
            if (_leavesState(leafOcids, leafKeys) != before) {
                _lifecycle("rule 6: a batch changed the record or the process of one of its leaves");
            }
            for (uint256 i; i < leafKeys.length; ++i) {
                if (_digestOf[leafKeys[i]] != 0) ++batchesOverAnchoredNotices;
            }
            _batches[b.root] = GhostBatch({
                signer: signer,
                agency: agencyOfKey[signer],
                blockNumber: block.number,
                timestamp: block.timestamp
            });
            _batchRoots.push(b.root);
            ++ghostBatchCount;
            ++anchoredBatches;
        } catch (bytes memory reason) {
            _refused(reason);
        }
    }

    /// @dev A fingerprint of the records of `keys` and the processes of `ocids`, as the ledger has them.
    function _leavesState(bytes32[] memory ocids, bytes32[] memory keys) private view returns (bytes32 h) {
        h = keccak256(abi.encode(ledger.recordsByKey(keys)));
        for (uint256 i; i < ocids.length; ++i) {
            h = keccak256(abi.encode(h, ledger.processOf(ocids[i])));
        }
    }

    /// @notice Governance or the admin act: revoke a key, register an agency, reserve an ocid
    ///         prefix, or appoint or dismiss the second relayer.
    function govern(uint256 action, uint256 seed) external {
        uint256 which = action % 5;
        if (which == 0) revokeSealKey(seed);
        else if (which == 1) registerAgency(seed);
        else if (which == 2) reserveOcidPrefix(seed);
        else toggleSecondRelayer(seed % 2 == 0);
    }

    /// @notice Governance revokes a key, keeping at least one active key per agency.
    function revokeSealKey(uint256 keySeed) public {
        address key = _sealKeys[keySeed % _sealKeys.length];
        if (revokedBlockOf[key] != 0 || !_agencyKeepsAnotherKey(key)) return;
        vm.prank(governor);
        try ledger.revokeSealKey(key) {
            revokedBlockOf[key] = block.number;
        } catch {
            _bookkeeping("governance could not revoke an active key");
        }
    }

    /// @notice Governance registers an agency; names repeat so duplicates are tried too.
    function registerAgency(uint256 nameSeed) public {
        string memory name = string.concat("Agency ", _letter(nameSeed % AGENCY_NAMES));
        bytes32 nameHash = keccak256(bytes(name));
        vm.prank(governor);
        try ledger.registerAgency(name) returns (uint32 agency) {
            if (_nameTaken[nameHash]) _bookkeeping("a duplicate agency name was registered");
            _nameTaken[nameHash] = true;
            ++ghostAgencies;
            if (agency != ghostAgencies) _bookkeeping("agency ids are not sequential");
        } catch {
            if (!_nameTaken[nameHash]) _bookkeeping("governance could not register a new name");
        }
    }

    /// @notice Governance reserves an ocid prefix of the pool (or a malformed candidate), mostly
    ///         for the agency that publishes under it, sometimes for another or an unknown one.
    ///         The outcome must be exactly what the rules say, error and arguments included.
    function reserveOcidPrefix(uint256 seed) public {
        uint256 candidate = seed % (2 * PREFIXES);
        string memory prefix = _prefixCandidate(candidate);
        uint256 pick = (seed >> 8) % 8;
        uint32 home = uint32(candidate % PREFIXES) + 1;
        uint32 agency;
        if (pick < 5) agency = home;
        else if (pick == 5) agency = home % 3 + 1;
        else if (pick == 6) agency = 0;
        else agency = ghostAgencies + 1 + uint32((seed >> 16) % 4);

        bool known = agency != 0 && agency <= ghostAgencies;
        bool wellFormed = candidate < PREFIXES;
        uint32 owner = wellFormed ? ghostPrefixOwner[candidate] : 0;
        bytes memory unknownAgency = abi.encodeWithSelector(INoticeLedger.UnknownAgency.selector, agency);
        bytes memory badPrefix = abi.encodeWithSelector(INoticeLedger.BadOcidPrefix.selector);

        vm.prank(governor);
        try ledger.reserveOcidPrefix(agency, prefix) {
            if (!known || !wellFormed || owner != 0) _bookkeeping("a prefix reservation the rules refuse went through");
            ghostPrefixOwner[candidate] = agency;
            ++prefixesReserved;
        } catch (bytes memory reason) {
            bytes32 got = keccak256(reason);
            bool justified;
            // Either error may come first when both the agency and the prefix are wrong.
            if (!known) justified = got == keccak256(unknownAgency) || (!wellFormed && got == keccak256(badPrefix));
            else if (!wellFormed) justified = got == keccak256(badPrefix);
            else if (owner != 0) {
                justified = got
                    == keccak256(
                        abi.encodeWithSelector(
                            INoticeLedger.OcidPrefixAlreadyReserved.selector, keccak256(bytes(prefix)), owner
                        )
                    );
            }
            if (!justified) _bookkeeping("a prefix reservation was refused without cause or with a wrong error");
        }
    }

    /// @notice The admin grants or revokes the second relayer's role.
    function toggleSecondRelayer(bool grant) public {
        bytes32 role = ledger.RELAYER_ROLE();
        vm.prank(admin);
        if (grant) ledger.grantRole(role, relayer2);
        else ledger.revokeRole(role, relayer2);
        relayer2Active = grant;
    }

    /// @notice Time and blocks pass.
    function advanceTime(uint256 secondsForward) external {
        // Mostly minutes, to land near deadlines; a quarter of the time up to three days.
        secondsForward = secondsForward % 4 != 0 ? bound(secondsForward, 0, 2 hours) : bound(secondsForward, 0, 3 days);
        vm.warp(block.timestamp + secondsForward);
        vm.roll(block.number + 1 + secondsForward / 12);
    }

    /// @notice Someone without a role tries to anchor or to govern.
    function outsiderActs(uint256 outsiderSeed, uint256 keySeed, uint256 noticeSeed, uint256 stageSeed, uint256 mode)
        external
    {
        if (mode % 2 == 0) outsiderAnchors(outsiderSeed, keySeed, noticeSeed, stageSeed, mode / 2);
        else outsiderGoverns(outsiderSeed, stageSeed, keySeed);
    }

    /// @notice An outsider submits a real agency seal it replays, or a seal of its own
    ///         unregistered key; as a single notice, a list, or a batch. All must fail.
    function outsiderAnchors(uint256 outsiderSeed, uint256 keySeed, uint256 noticeSeed, uint256 stageSeed, uint256 mode)
        public
    {
        bool ownKey = mode % 2 == 1;
        uint256 outsiderPk = bound(uint256(keccak256(abi.encode("outsider", outsiderSeed % 64))), 1, SECP256K1_N - 1);
        address outsider = vm.addr(outsiderPk);
        if (!_isOutsider(outsider)) return;
        _trackOutsider(outsider);
        (uint256 pk,) = ownKey ? (outsiderPk, outsider) : _sealKey(keySeed);

        INoticeLedger.NoticeInput memory n = _notice(noticeSeed, stageSeed);
        bytes memory seal = _sign(pk, _noticeHash(n));
        uint256 kind = (mode / 2) % 3;
        if (kind == 0) {
            vm.prank(outsider);
            try ledger.anchorNotice(n, seal) {
                _forbidden("an outsider anchored a notice");
            } catch {}
        } else if (kind == 1) {
            INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](1);
            bytes[] memory seals = new bytes[](1);
            (notices[0], seals[0]) = (n, seal);
            vm.prank(outsider);
            try ledger.anchorNotices(notices, seals) returns (uint256 anchoredCount) {
                if (anchoredCount != 0) _forbidden("an outsider anchored a notice list");
            } catch {}
        } else {
            INoticeLedger.BatchInput memory b =
                INoticeLedger.BatchInput({root: keccak256(abi.encode("outsider root", noticeSeed)), size: 1, label: "x"});
            seal = _sign(pk, SealHashing.typedDataHash(SealHashing.batchStructHash(b), block.chainid, address(ledger)));
            vm.prank(outsider);
            try ledger.anchorBatch(b, seal) {
                _forbidden("an outsider anchored a batch");
            } catch {}
        }
    }

    /// @notice Someone without the needed role tries every governance and role function.
    function outsiderGoverns(uint256 callerSeed, uint256 action, uint256 argSeed) public {
        address caller = _nonGovernor(callerSeed);
        address someone = address(uint160(uint256(keccak256(abi.encode("someone", argSeed)))));
        address key = _sealKeys[argSeed % _sealKeys.length];
        bytes32 role = argSeed % 2 == 0 ? ledger.GOVERNANCE_ROLE() : ledger.RELAYER_ROLE();
        bytes memory data;
        uint256 which = action % 11;
        if (which == 0) data = abi.encodeCall(ledger.registerAgency, ("Outsider Agency"));
        else if (which == 1) data = abi.encodeCall(ledger.addSealKey, (argSeed % 2 == 0 ? uint32(1) : uint32(2), someone));
        else if (which == 2) data = abi.encodeCall(ledger.revokeSealKey, (key));
        else if (which == 3) data = abi.encodeCall(ledger.grantRole, (role, caller));
        else if (which == 4) data = abi.encodeCall(ledger.revokeRole, (role, role == ledger.RELAYER_ROLE() ? relayer : governor));
        else if (which == 5) data = abi.encodeCall(ledger.grantRole, (bytes32(0), caller));
        else if (which == 6) data = abi.encodeCall(ledger.beginDefaultAdminTransfer, (caller));
        else if (which == 7) data = abi.encodeCall(ledger.acceptDefaultAdminTransfer, ());
        else if (which == 8) data = abi.encodeCall(ledger.changeDefaultAdminDelay, (uint48(0)));
        else if (which == 9) data = abi.encodeCall(ledger.reserveOcidPrefix, (uint32(1 + argSeed % 3), _prefixCandidate(argSeed % PREFIXES)));
        else data = abi.encodeCall(ledger.renounceRole, (ledger.GOVERNANCE_ROLE(), governor));
        vm.prank(caller);
        (bool ok,) = address(ledger).call(data);
        if (ok) _forbidden("a caller without the role changed governance or roles");
    }

    // ================================================================ ghost views

    /// @notice Every notice the handler saw anchored, in order.
    function ghostNotices() external view returns (GhostNotice[] memory) {
        return _notices;
    }

    /// @notice The log of a process: the notices it accepted, in order.
    function ghostLog(bytes32 ocidHash) external view returns (LifecycleSpec.Entry[] memory) {
        return _logs[ocidHash];
    }

    /// @notice Every process that accepted a notice, in the order they opened.
    function processIds() external view returns (bytes32[] memory) {
        return _processIds;
    }

    /// @notice The NoticeAnchored logs of every accepted notice, decoded, in order.
    function eventRows() external view returns (EventReplay.Row[] memory) {
        return _rows;
    }

    /// @notice Every batch root anchored, with its ghost record.
    function ghostBatches() external view returns (bytes32[] memory roots, GhostBatch[] memory records) {
        roots = _batchRoots;
        records = new GhostBatch[](roots.length);
        for (uint256 i; i < roots.length; ++i) {
            records[i] = _batches[roots[i]];
        }
    }

    /// @notice The prefix candidates governance tries (the well-formed ones first).
    function prefixCandidates() external pure returns (string[] memory candidates) {
        candidates = new string[](2 * PREFIXES);
        for (uint256 i; i < candidates.length; ++i) {
            candidates[i] = _prefixCandidate(i);
        }
    }

    function sealKeys() external view returns (address[] memory) {
        return _sealKeys;
    }

    function outsiders() external view returns (address[] memory) {
        return _outsiders;
    }

    // ================================================================ ghost bookkeeping

    /// @dev The rules a successful anchoring must have respected (but rule 4, which the
    ///      invariant judges from the process log), then the ghost update.
    function _recordNotice(INoticeLedger.NoticeInput memory n, address signer, address sender) private {
        _checkSealUse(signer, sender, "anchorNotice");
        bytes32 key = _key(n);
        bool isDocument = n.stage == Stages.DOCUMENT;
        if (n.digest == 0 || bytes(n.ocid).length == 0 || bytes(n.releaseId).length == 0) {
            _appendOnly("a notice with an empty field was anchored");
        }
        if (n.stage < Stages.PLANNING || n.stage > Stages.DOCUMENT) _appendOnly("an unknown stage was anchored");
        if (_digestOf[key] != 0) _appendOnly("an anchored key received another digest");
        if (!isDocument && releaseWithDigest[n.digest] != 0) _appendOnly("a release digest was anchored under a second key");

        uint32 agency = agencyOfKey[signer];
        bytes32 ocidHash = keccak256(bytes(n.ocid));
        LifecycleSpec.State memory s = _spec[ocidHash];
        if (s.notices == 0) {
            _processIds.push(ocidHash);
            _ocidText[ocidHash] = n.ocid;
            uint32 owner = _ownerOfPrefixOf(ocidHash);
            if (owner != 0 && owner != agency) _lifecycle("rule 2: a process opened under another agency's prefix");
        } else if (s.agency != agency) {
            _lifecycle("rule 2: a process received a notice from another agency");
        }
        if (LifecycleSpec.isAwardOrContract(n.stage) && s.hasTender) ++awardsUnderTender;
        if (n.previous != 0) ++linkedNotices;
        if (isDocument) {
            bytes32 first = _fileFirstProcess[n.digest];
            if (first == 0) _fileFirstProcess[n.digest] = ocidHash;
            else if (first != ocidHash) ++filesSharedAcrossProcesses;
        }

        LifecycleSpec.Entry memory entry = LifecycleSpec.Entry({
            previous: n.previous,
            releaseHash: keccak256(bytes(n.releaseId)),
            stage: n.stage,
            deadline: n.deadline,
            agency: agency,
            // forge-lint: disable-next-line(unsafe-typecast) block times fit 48 bits
            timestamp: uint48(block.timestamp)
        });
        _logs[ocidHash].push(entry);
        LifecycleSpec.step(s, entry);
        _spec[ocidHash] = s;
        _released[ocidHash][entry.releaseHash] = true;
        _notices.push(
            GhostNotice({
                key: key,
                digest: n.digest,
                ocidHash: ocidHash,
                signer: signer,
                agency: agency,
                stage: n.stage,
                // forge-lint: disable-next-line(unsafe-typecast) block times fit 48 bits
                timestamp: uint48(block.timestamp),
                // forge-lint: disable-next-line(unsafe-typecast) block numbers fit 64 bits
                blockNumber: uint64(block.number)
            })
        );
        _digestOf[key] = n.digest;
        if (!isDocument) releaseWithDigest[n.digest] = _notices.length;
        ++anchoredNotices;
    }

    /// @dev Keeps the NoticeAnchored logs of the call just made, decoded, after checking that
    ///      there is one per newly anchored notice and that each seal recovers its logged signer.
    function _captureLogs(uint256 expected) private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 seen;
        for (uint256 i; i < logs.length; ++i) {
            if (!EventReplay.isNoticeAnchored(logs[i], address(ledger))) continue;
            (EventReplay.Row memory row, INoticeLedger.NoticeInput memory n, bytes memory seal) =
                EventReplay.decode(logs[i], block.number, block.timestamp);
            (bytes32 r, bytes32 s, uint8 v) = _split(seal);
            if (ecrecover(_noticeHash(n), v, r, s) != row.signer) {
                _bookkeeping("a NoticeAnchored seal does not recover the logged signer");
            }
            _rows.push(row);
            ++seen;
        }
        if (seen != expected) _bookkeeping("NoticeAnchored logs differ from the notices anchored");
    }

    /// @dev What the ghost knows about the process and key of a refused notice.
    struct RefusalContext {
        bytes32 ocidHash;
        bytes32 key;
        uint32 agency;
        LifecycleSpec.State state;
    }

    /// @dev A single notice was refused with `reason`: when it is a rule error, the ghost
    ///      must show its cause, and the error must carry exactly the ghost's arguments.
    function _justify(bytes memory reason, INoticeLedger.NoticeInput memory n, address signer, address sender)
        private
    {
        if (reason.length < 4) return;
        // forge-lint: disable-next-line(unsafe-typecast) keeping the selector is the point
        bytes4 selector = bytes4(reason);
        RefusalContext memory c;
        c.ocidHash = keccak256(bytes(n.ocid));
        c.key = _key(n);
        c.agency = agencyOfKey[signer];
        c.state = _spec[c.ocidHash];

        (bool cause, bytes memory expected, string memory what) = _processRuleCause(selector, n, c);
        if (bytes(what).length == 0) (cause, expected, what) = _noticeRuleCause(selector, n, c, signer, sender);
        if (bytes(what).length == 0) (what, expected) = ("an error the ledger should not raise here", reason);
        if (!cause || keccak256(reason) != keccak256(expected)) {
            ++unjustifiedRefusals;
            lastViolation = string.concat("a notice was refused without cause (or with other arguments): ", what);
        }
    }

    /// @dev Rules 2 and 4 (the process's agency, prefix and lifecycle), judged from its log.
    function _processRuleCause(bytes4 selector, INoticeLedger.NoticeInput memory n, RefusalContext memory c)
        private
        view
        returns (bool cause, bytes memory expected, string memory what)
    {
        LifecycleSpec.State memory s = c.state;
        bool tenderStage = LifecycleSpec.isTenderStage(n.stage);
        bool awardStage = LifecycleSpec.isAwardOrContract(n.stage);
        if (selector == INoticeLedger.PreviousNotAnchored.selector) {
            what = "PreviousNotAnchored";
            cause = n.previous != 0 && !_released[c.ocidHash][n.previous];
            expected = abi.encodeWithSelector(selector, c.ocidHash, n.previous);
        } else if (selector == INoticeLedger.OcidPrefixOfOtherAgency.selector) {
            what = "OcidPrefixOfOtherAgency";
            uint32 owner = _ownerOfPrefixOf(c.ocidHash);
            cause = s.notices == 0 && owner != 0 && owner != c.agency;
            expected = abi.encodeWithSelector(selector, c.ocidHash, owner, c.agency);
        } else if (selector == INoticeLedger.ProcessOfOtherAgency.selector) {
            what = "ProcessOfOtherAgency";
            cause = s.notices != 0 && s.agency != c.agency;
            expected = abi.encodeWithSelector(selector, c.ocidHash, s.agency, c.agency);
        } else if (selector == INoticeLedger.TenderAfterAmendment.selector) {
            what = "TenderAfterAmendment";
            cause = n.stage == Stages.TENDER && s.amended;
            expected = abi.encodeWithSelector(selector, c.ocidHash);
        } else if (selector == INoticeLedger.DeadlineInPast.selector) {
            what = "DeadlineInPast";
            // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
            cause = tenderStage && LifecycleSpec.movesDeadline(s, n.deadline) && n.deadline <= block.timestamp;
            expected = abi.encodeWithSelector(selector, c.ocidHash, n.deadline, block.timestamp);
        } else if (selector == INoticeLedger.DeadlinePassed.selector) {
            what = "DeadlinePassed";
            // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
            cause = tenderStage && LifecycleSpec.movesDeadline(s, n.deadline) && block.timestamp >= s.deadline;
            expected = abi.encodeWithSelector(selector, c.ocidHash, s.deadline);
        } else if (selector == INoticeLedger.DeadlineAfterAward.selector) {
            what = "DeadlineAfterAward";
            cause = tenderStage && n.deadline != 0 && s.firstAwardAt != 0 && n.deadline > s.firstAwardAt;
            expected = abi.encodeWithSelector(selector, c.ocidHash, n.deadline, s.firstAwardAt);
        } else if (selector == INoticeLedger.DeadlineNotPassed.selector) {
            what = "DeadlineNotPassed";
            // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
            cause = awardStage && s.hasTender && !s.cancelled && block.timestamp < s.deadline;
            expected = abi.encodeWithSelector(selector, c.ocidHash, s.deadline);
        } else if (selector == INoticeLedger.ProcessCancelled.selector) {
            what = "ProcessCancelled";
            cause = awardStage && s.cancelled;
            expected = abi.encodeWithSelector(selector, c.ocidHash);
        }
    }

    /// @dev Rules 1 and 3 and the field rules: key, digest, seal key, sender, stage.
    function _noticeRuleCause(
        bytes4 selector,
        INoticeLedger.NoticeInput memory n,
        RefusalContext memory c,
        address signer,
        address sender
    ) private view returns (bool cause, bytes memory expected, string memory what) {
        bytes32 anchored = _digestOf[c.key];
        if (selector == INoticeLedger.DigestAlreadyAnchored.selector) {
            what = "DigestAlreadyAnchored";
            cause = n.stage != Stages.DOCUMENT && releaseWithDigest[n.digest] != 0;
            expected = abi.encodeWithSelector(selector, n.digest);
        } else if (selector == INoticeLedger.NoticeAlreadyAnchored.selector) {
            what = "NoticeAlreadyAnchored";
            cause = anchored == n.digest;
            expected = abi.encodeWithSelector(selector, c.key);
        } else if (selector == INoticeLedger.DigestConflict.selector) {
            what = "DigestConflict";
            cause = anchored != 0 && anchored != n.digest;
            expected = abi.encodeWithSelector(selector, c.key, anchored, n.digest);
        } else if (selector == INoticeLedger.RevokedSealKey.selector) {
            what = "RevokedSealKey";
            cause = revokedBlockOf[signer] != 0;
            expected = abi.encodeWithSelector(selector, signer);
        } else if (selector == INoticeLedger.UnauthorizedSubmitter.selector) {
            what = "UnauthorizedSubmitter";
            cause = sender != signer && !_isRelayer(sender);
            expected = abi.encodeWithSelector(selector, sender);
        } else if (selector == INoticeLedger.UnknownStage.selector) {
            what = "UnknownStage";
            cause = n.stage < Stages.PLANNING || n.stage > Stages.DOCUMENT;
            expected = abi.encodeWithSelector(selector, n.stage);
        } else if (selector == INoticeLedger.ZeroDigest.selector) {
            what = "ZeroDigest";
            cause = n.digest == 0;
            expected = abi.encodeWithSelector(selector);
        }
    }

    function _refused(bytes memory reason) private {
        ++refusedCalls;
        // forge-lint: disable-next-line(unsafe-typecast) keeping the selector is the point
        if (reason.length >= 4) ++refusalsBy[bytes4(reason)];
    }

    function _checkSealUse(address signer, address sender, string memory what) private {
        if (agencyOfKey[signer] == 0) _forbidden(string.concat(what, ": an unregistered key was accepted"));
        if (revokedBlockOf[signer] != 0) _forbidden(string.concat(what, ": a revoked key was accepted"));
        if (sender != signer && !_isRelayer(sender)) _forbidden(string.concat(what, ": an unauthorised sender"));
    }

    function _forbidden(string memory why) private {
        ++forbiddenSuccesses;
        lastViolation = why;
    }

    function _appendOnly(string memory why) private {
        ++appendOnlyViolations;
        lastViolation = why;
    }

    function _lifecycle(string memory why) private {
        ++lifecycleViolations;
        lastViolation = why;
    }

    function _bookkeeping(string memory why) private {
        ++bookkeepingViolations;
        lastViolation = why;
    }

    // ================================================================ pools

    /// @dev The ocid pool and the prefix (1-based, 0 for none) each falls under, by hand:
    ///      the same process names in other letter cases are other processes under the same
    ///      prefix; "ocds-none" and "ocdsnone-..." have one hyphen and so no prefix.
    function _ocid(uint256 i) private pure returns (string memory ocid, uint256 prefix) {
        if (i == 0) return ("ocds-aaa-1", 1);
        if (i == 1) return ("OCDS-AAA-1", 1);
        if (i == 2) return ("ocds-aaa-2", 1);
        if (i == 3) return ("ocds-bbb-1", 2);
        if (i == 4) return ("Ocds-Bbb-2", 2);
        if (i == 5) return ("ocds-ccc-1", 3);
        if (i == 6) return ("oCdS-cCc-1", 3);
        if (i == 7) return ("ocds-none", 0);
        string memory local = string.concat(_letter(i % 16), _letter(i / 16));
        uint256 kind = i % 4;
        if (kind == 0) return (string.concat("ocds-aaa-", local), 1);
        if (kind == 1) return (string.concat("OCDS-BBB-", local), 2);
        if (kind == 2) return (string.concat("ocds-ccc-", local), 3);
        return (string.concat("ocdsnone-", local), 0);
    }

    /// @dev Well-formed prefixes 0..2 (of agencies 1..3 by default), then malformed ones.
    function _prefixCandidate(uint256 i) private pure returns (string memory) {
        if (i == 0) return "ocds-aaa";
        if (i == 1) return "ocds-bbb";
        if (i == 2) return "ocds-ccc";
        if (i == 3) return "OCDS-AAA"; // uppercase
        if (i == 4) return "ocds-bbb-1"; // two hyphens
        return "ocdsccc"; // no hyphen
    }

    function _ownerOfPrefixOf(bytes32 ocidHash) private view returns (uint32) {
        uint256 prefix = _prefixOfOcid[ocidHash];
        return prefix == 0 ? 0 : ghostPrefixOwner[prefix - 1];
    }

    function _releaseDigest(uint256 i) private pure returns (bytes32) {
        return keccak256(abi.encode("digest", i));
    }

    function _file(uint256 i) private pure returns (bytes32) {
        return sha256(abi.encode("file", i));
    }

    function _sealKey(uint256 seed) private view returns (uint256 pk, address key) {
        uint256 i = seed % _sealPks.length;
        return (_sealPks[i], _sealKeys[i]);
    }

    /// @dev Usually an active key of the agency that publishes under the ocid's prefix
    ///      ("ocds-aaa" agency 1, "ocds-bbb" agency 2, "ocds-ccc" agency 3, any for no prefix);
    ///      sometimes a revoked key or any key at all, so rules 1 and 2 (squatting included)
    ///      are exercised without starving the other rules of successes.
    function _keyFor(uint256 keySeed, uint256 noticeSeed) private view returns (uint256 pk, address key) {
        uint256 h = _mix(keySeed, "key");
        if (h % 6 == 0) return _sealKey(h >> 8);
        (, uint256 prefix) = _ocid(_ocidIndex(noticeSeed));
        uint32 home = prefix == 0 ? uint32(1 + (h >> 12) % 3) : uint32(prefix);
        bool activeOnly = (h >> 4) % 4 != 0;
        uint256 count = _sealKeys.length;
        uint256 start = (h >> 8) % count;
        for (uint256 j; j < count; ++j) {
            uint256 i = (start + j) % count;
            key = _sealKeys[i];
            if (agencyOfKey[key] == home && (!activeOnly || revokedBlockOf[key] == 0)) return (_sealPks[i], key);
        }
        return _sealKey(keySeed);
    }

    /// @dev An active key of `agency` (the zero address when it has none).
    function _activeKeyOf(uint32 agency, uint256 seed) private view returns (uint256 pk, address key) {
        uint256 count = _sealKeys.length;
        for (uint256 j; j < count; ++j) {
            uint256 i = (seed % count + j) % count;
            if (agencyOfKey[_sealKeys[i]] == agency && revokedBlockOf[_sealKeys[i]] == 0) return (_sealPks[i], _sealKeys[i]);
        }
        return (0, address(0));
    }

    function _relayer(uint256 seed) private view returns (address) {
        // The second relayer is picked whether or not it holds the role right now.
        return _mix(seed, "relayer") % 6 == 0 ? relayer2 : relayer;
    }

    function _isRelayer(address account) private view returns (bool) {
        return account == relayer || (account == relayer2 && relayer2Active);
    }

    /// @dev Process and release id come from small pools shared by every agency (a hot few
    ///      release ids a quarter of the time); a document carries one of a few files (the
    ///      same file for many processes), a release a digest that is now and then a file's or
    ///      one of a hot few; `previous` is mostly zero, else names a release id of the pool
    ///      (anchored in this process, or only in others, or nowhere) or nothing at all; the
    ///      deadline is none or around now; the stage covers every known code plus unknown 0
    ///      and 17.
    function _notice(uint256 seed, uint256 stageSeed) private view returns (INoticeLedger.NoticeInput memory n) {
        uint256 h = _mix(seed, "notice");
        (string memory ocid,) = _ocid(_ocidIndex(seed));
        uint256 r = (h >> 16) % 256;
        uint256 releaseIndex = r < 64 ? r % HOT_RELEASES : r % RELEASES;
        uint8 stage = _stage(stageSeed);
        bytes32 digest;
        uint256 d = (h >> 32) % 256;
        if (stage == Stages.DOCUMENT) digest = d < 4 ? bytes32(0) : _file(d % FILES);
        else if (d < 4) digest = 0;
        else if (d < 24) digest = _file(d % FILES);
        else if (d < 40) digest = _releaseDigest(d % HOT_DIGESTS);
        else digest = _releaseDigest((h >> 40) % RELEASE_DIGESTS);
        uint64 deadline;
        uint256 kind = (h >> 56) % 6;
        // None; within an hour of now; anywhere from two days ago to five ahead; now or one
        // second before (the DeadlineInPast edge); one second to a minute ahead.
        if (kind == 2) deadline = uint64(block.timestamp - 1 hours + (h >> 64) % 2 hours);
        else if (kind == 3) deadline = uint64(block.timestamp - 2 days + (h >> 64) % 7 days);
        else if (kind == 4) deadline = uint64(block.timestamp - (h >> 64) % 2);
        else if (kind == 5) deadline = uint64(block.timestamp + 1 + (h >> 64) % 60);
        bytes32 previous;
        uint256 link = (h >> 96) % 16;
        if (link == 12 || link == 13) previous = keccak256(bytes(_releaseId((h >> 104) % HOT_RELEASES)));
        else if (link == 14) previous = keccak256(bytes(_releaseId((h >> 104) % RELEASES)));
        else if (link == 15) previous = keccak256(abi.encode("no such release", (h >> 104) % 4));
        n = INoticeLedger.NoticeInput({
            ocid: ocid,
            releaseId: _releaseId(releaseIndex),
            stage: stage,
            digest: digest,
            previous: previous,
            deadline: deadline
        });
    }

    function _releaseId(uint256 i) private pure returns (string memory) {
        return string.concat("release-", _letter(i % 16), _letter(i / 16));
    }

    /// @dev Batch leaf `i`: notice key || digest of a pool notice (ocid i, a hot release id,
    ///      a hot release digest or a file), the very pairs the notice path anchors.
    function _leaf(uint256 i) private pure returns (bytes memory leaf, bytes32 ocidHash, bytes32 key) {
        (string memory ocid,) = _ocid(i % OCIDS);
        ocidHash = keccak256(bytes(ocid));
        key = keccak256(abi.encode(ocidHash, keccak256(bytes(_releaseId(i % HOT_RELEASES)))));
        bytes32 digest = i < 4 ? _releaseDigest(i % HOT_DIGESTS) : _file(i % FILES);
        leaf = abi.encodePacked(key, digest);
    }

    /// @dev RFC 9162 Merkle tree head of leaves[from:to]: SHA-256(0x00 || leaf) for a leaf,
    ///      SHA-256(0x01 || left || right) for a node, split at the largest power of two below n.
    function _merkleRoot(bytes[] memory leaves, uint256 from, uint256 to) private pure returns (bytes32) {
        uint256 n = to - from;
        if (n == 1) return sha256(abi.encodePacked(bytes1(0x00), leaves[from]));
        uint256 k = 1;
        while (k * 2 < n) {
            k *= 2;
        }
        return sha256(
            abi.encodePacked(bytes1(0x01), _merkleRoot(leaves, from, from + k), _merkleRoot(leaves, from + k, to))
        );
    }

    /// @dev Spreads small fuzzer seeds (0, 1, 2, ...) over the whole pools.
    function _mix(uint256 seed, string memory tag) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(tag, seed)));
    }

    function _ocidIndex(uint256 noticeSeed) private pure returns (uint256) {
        uint256 h = _mix(noticeSeed, "notice");
        return (h >> 8) % 2 == 0 ? h % HOT_OCIDS : h % OCIDS;
    }

    /// @dev Every known stage plus unknown 0 and 17, weighted towards tender stages (which
    ///      declare and move deadlines) and awards (which wait for them).
    function _stage(uint256 seed) private pure returns (uint8) {
        uint8[26] memory table = [
            Stages.PLANNING,
            Stages.PLANNING_UPDATE,
            Stages.TENDER,
            Stages.TENDER,
            Stages.TENDER,
            Stages.TENDER,
            Stages.TENDER_AMENDMENT,
            Stages.TENDER_AMENDMENT,
            Stages.TENDER_UPDATE,
            Stages.TENDER_UPDATE,
            Stages.TENDER_CANCELLATION,
            Stages.AWARD,
            Stages.AWARD,
            Stages.AWARD_UPDATE,
            Stages.AWARD_CANCELLATION,
            Stages.CONTRACT,
            Stages.CONTRACT,
            Stages.CONTRACT_UPDATE,
            Stages.CONTRACT_AMENDMENT,
            Stages.IMPLEMENTATION,
            Stages.IMPLEMENTATION_UPDATE,
            Stages.CONTRACT_TERMINATION,
            Stages.DOCUMENT,
            Stages.DOCUMENT,
            0,
            Stages.DOCUMENT + 1
        ];
        return table[seed % table.length];
    }

    function _letter(uint256 i) private pure returns (string memory) {
        return string(abi.encodePacked(bytes("abcdefghijklmnop")[i]));
    }

    function _key(INoticeLedger.NoticeInput memory n) private pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(n.ocid)), keccak256(bytes(n.releaseId))));
    }

    function _noticeHash(INoticeLedger.NoticeInput memory n) private view returns (bytes32) {
        return SealHashing.typedDataHash(SealHashing.noticeStructHash(n), block.chainid, address(ledger));
    }

    function _sign(uint256 pk, bytes32 hash) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, hash);
        return abi.encodePacked(r, s, v);
    }

    function _split(bytes memory seal) private pure returns (bytes32 r, bytes32 s, uint8 v) {
        if (seal.length != 65) return (0, 0, 0);
        assembly ("memory-safe") {
            r := mload(add(seal, 32))
            s := mload(add(seal, 64))
            v := byte(0, mload(add(seal, 96)))
        }
    }

    function _agencyKeepsAnotherKey(address key) private view returns (bool) {
        for (uint256 i; i < _sealKeys.length; ++i) {
            address other = _sealKeys[i];
            if (other != key && agencyOfKey[other] == agencyOfKey[key] && revokedBlockOf[other] == 0) return true;
        }
        return false;
    }

    function _isOutsider(address account) private view returns (bool) {
        return account != admin && account != governor && account != relayer && account != relayer2
            && agencyOfKey[account] == 0;
    }

    function _trackOutsider(address account) private {
        if (_outsiderSeen[account] || _outsiders.length >= MAX_OUTSIDERS_TRACKED) return;
        _outsiderSeen[account] = true;
        _outsiders.push(account);
    }

    /// @dev An account with no governance power: an outsider, a seal key or a relayer.
    function _nonGovernor(uint256 seed) private returns (address) {
        uint256 pick = seed % 4;
        if (pick == 0) return _sealKeys[(seed >> 8) % _sealKeys.length];
        if (pick == 1) return (seed >> 8) % 2 == 0 ? relayer : relayer2;
        address outsider = address(uint160(uint256(keccak256(abi.encode("outsider", seed % 64)))));
        if (!_isOutsider(outsider)) return relayer;
        _trackOutsider(outsider);
        return outsider;
    }
}
