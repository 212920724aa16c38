// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {NoticeLedger} from "../../src/NoticeLedger.sol";
import {INoticeLedger} from "../../src/INoticeLedger.sol";
import {Stages} from "../../src/Stages.sol";
import {SealHashing} from "../utils/SealHashing.sol";
import {TestBase} from "../utils/TestBase.sol";

/// @title LedgerHandler
/// @notice Drives the ledger for the invariant runner: agencies, relayers and outsiders act
///         on a small pool of processes, release ids and digests, so that re-anchoring,
///         conflicts, other agencies, deadlines and cancellations collide often.
///
///         Ghost state is written only when a call succeeds, from what the handler itself
///         sealed and the rules of DESIGN.md "On-chain rules" - never read back from the
///         ledger - so the invariants compare the ledger against an independent account.
///         Whenever a call succeeds that the rules say must fail, a violation counter goes
///         up with a description; the invariants require every counter to stay at zero.
contract LedgerHandler is TestBase {
    /// @notice A notice the handler saw anchored, with what the ledger must keep for it.
    struct GhostNotice {
        bytes32 key;
        bytes32 digest;
        bytes32 ocidHash;
        address signer;
        uint32 agency;
        uint8 stage;
        uint256 blockNumber;
        uint256 timestamp;
        uint256 seq;
        // Process state just before this notice (for rule 4).
        bool tenderBefore;
        bool cancelledBefore;
        uint64 deadlineBefore;
    }

    struct GhostProcess {
        uint32 agency;
        uint64 deadline;
        bool hasTender;
        bool cancelled;
        uint32 notices;
        uint256 cancelSeq;
        uint256 firstAwardAt;
    }

    struct GhostBatch {
        address signer;
        uint32 agency;
        uint256 blockNumber;
        uint256 timestamp;
    }

    uint256 private constant OCIDS = 8;
    uint256 private constant RELEASES = 12;
    uint256 private constant DIGESTS = 128;
    uint256 private constant ROOTS = 16;
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
    mapping(bytes32 digest => bool) private _digestTaken;
    bytes32[] private _processIds;
    mapping(bytes32 ocidHash => GhostProcess) private _processes;
    bytes32[] private _batchRoots;
    mapping(bytes32 root => GhostBatch) private _batches;
    mapping(bytes32 nameHash => bool) private _nameTaken;
    address[] private _outsiders;
    mapping(address => bool) private _outsiderSeen;

    uint32 public ghostAgencies;
    uint64 public ghostBatchCount;
    uint256 private _seq;

    // ------------------------------------------------------------ violation counters

    /// @notice Successful calls by outsiders, unknown or revoked keys, or unauthorised senders.
    uint256 public forbiddenSuccesses;
    /// @notice Successful calls that would overwrite a record, reuse a digest or a root.
    uint256 public appendOnlyViolations;
    /// @notice Successful calls that broke rule 2 or rule 4.
    uint256 public lifecycleViolations;
    /// @notice Governance or counting behaviour that differs from the rules.
    uint256 public bookkeepingViolations;
    /// @notice What the last violation was, for the failure message.
    string public lastViolation;

    /// @notice How many calls of each kind succeeded (shows the campaign is not vacuous).
    uint256 public anchoredNotices;
    uint256 public anchoredBatches;
    uint256 public refusedCalls;
    /// @notice Refusals by custom error selector, and awards anchored under a known tender.
    mapping(bytes4 selector => uint256) public refusalsBy;
    uint256 public awardsUnderTender;

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
    }

    // ================================================================ actions

    /// @notice A seal key's notice, submitted by the key itself or by a relayer.
    function anchorNotice(uint256 keySeed, uint256 noticeSeed, uint256 stageSeed, bool viaRelayer) external {
        (uint256 pk, address signer) = _keyFor(keySeed, noticeSeed);
        INoticeLedger.NoticeInput memory n = _notice(noticeSeed, stageSeed);
        bytes memory seal = _sign(pk, _noticeHash(n));
        address sender = viaRelayer ? _relayer(keySeed) : signer;
        vm.prank(sender);
        try ledger.anchorNotice(n, seal) {
            _recordNotice(n, signer, sender);
        } catch (bytes memory reason) {
            _refused(reason);
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
        } catch (bytes memory reason) {
            _refused(reason);
        }
    }

    /// @notice A sealed batch root; roots repeat and are sometimes zero, sizes and labels may be empty.
    function anchorBatch(uint256 keySeed, uint256 rootSeed, uint256 sizeSeed, uint256 labelSeed, bool viaRelayer)
        external
    {
        (uint256 pk, address signer) = _sealKey(keySeed);
        uint256 rootIndex = rootSeed % (ROOTS + 1);
        bytes32 root = rootIndex == ROOTS ? bytes32(0) : keccak256(abi.encode("root", rootIndex));
        // forge-lint: disable-next-line(unsafe-typecast) at most 4096
        uint32 size = uint32(sizeSeed % 4097);
        INoticeLedger.BatchInput memory b =
            INoticeLedger.BatchInput({root: root, size: size, label: labelSeed % 8 == 0 ? "" : "archive"});
        bytes memory seal = _sign(pk, SealHashing.typedDataHash(SealHashing.batchStructHash(b), block.chainid, address(ledger)));
        address sender = viaRelayer ? _relayer(keySeed) : signer;
        vm.prank(sender);
        try ledger.anchorBatch(b, seal) {
            _checkSealUse(signer, sender, "anchorBatch");
            if (b.root == 0 || b.size == 0 || bytes(b.label).length == 0) _appendOnly("anchorBatch accepted a bad batch");
            if (_batches[root].signer != address(0)) _appendOnly("anchorBatch re-anchored a root");
            _batches[root] = GhostBatch({
                signer: signer,
                agency: agencyOfKey[signer],
                blockNumber: block.number,
                timestamp: block.timestamp
            });
            _batchRoots.push(root);
            ++ghostBatchCount;
            ++anchoredBatches;
        } catch (bytes memory reason) {
            _refused(reason);
        }
    }

    /// @notice Governance or the admin act: revoke a key, register an agency, or appoint or
    ///         dismiss the second relayer.
    function govern(uint256 action, uint256 seed) external {
        uint256 which = action % 4;
        if (which == 0) revokeSealKey(seed);
        else if (which == 1) registerAgency(seed);
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
        // Half the time minutes, to land near deadlines; otherwise up to three days.
        secondsForward = secondsForward % 2 == 0 ? bound(secondsForward, 0, 2 hours) : bound(secondsForward, 0, 3 days);
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
        uint256 which = action % 10;
        if (which == 0) data = abi.encodeCall(ledger.registerAgency, ("Outsider Agency"));
        else if (which == 1) data = abi.encodeCall(ledger.addSealKey, (argSeed % 2 == 0 ? uint32(1) : uint32(2), someone));
        else if (which == 2) data = abi.encodeCall(ledger.revokeSealKey, (key));
        else if (which == 3) data = abi.encodeCall(ledger.grantRole, (role, caller));
        else if (which == 4) data = abi.encodeCall(ledger.revokeRole, (role, role == ledger.RELAYER_ROLE() ? relayer : governor));
        else if (which == 5) data = abi.encodeCall(ledger.grantRole, (bytes32(0), caller));
        else if (which == 6) data = abi.encodeCall(ledger.beginDefaultAdminTransfer, (caller));
        else if (which == 7) data = abi.encodeCall(ledger.acceptDefaultAdminTransfer, ());
        else if (which == 8) data = abi.encodeCall(ledger.changeDefaultAdminDelay, (uint48(0)));
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

    /// @notice Every process touched, with its ghost state.
    function ghostProcesses() external view returns (bytes32[] memory ids, GhostProcess[] memory states) {
        ids = _processIds;
        states = new GhostProcess[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            states[i] = _processes[ids[i]];
        }
    }

    function ghostProcessOf(bytes32 ocidHash) external view returns (GhostProcess memory) {
        return _processes[ocidHash];
    }

    /// @notice Every batch root anchored, with its ghost record.
    function ghostBatches() external view returns (bytes32[] memory roots, GhostBatch[] memory records) {
        roots = _batchRoots;
        records = new GhostBatch[](roots.length);
        for (uint256 i; i < roots.length; ++i) {
            records[i] = _batches[roots[i]];
        }
    }

    function sealKeys() external view returns (address[] memory) {
        return _sealKeys;
    }

    function outsiders() external view returns (address[] memory) {
        return _outsiders;
    }

    // ================================================================ ghost bookkeeping

    /// @dev The rules a successful anchoring must have respected, then the ghost update.
    function _recordNotice(INoticeLedger.NoticeInput memory n, address signer, address sender) private {
        _checkSealUse(signer, sender, "anchorNotice");
        bytes32 key = _key(n);
        if (n.digest == 0 || bytes(n.ocid).length == 0 || bytes(n.releaseId).length == 0) {
            _appendOnly("a notice with an empty field was anchored");
        }
        if (n.stage < Stages.PLANNING || n.stage > Stages.DOCUMENT) _appendOnly("an unknown stage was anchored");
        if (_digestOf[key] != 0) _appendOnly("an anchored key received another digest");
        if (_digestTaken[n.digest]) _appendOnly("a digest was anchored under a second key");

        uint32 agency = agencyOfKey[signer];
        bytes32 ocidHash = keccak256(bytes(n.ocid));
        GhostProcess storage p = _processes[ocidHash];
        if (p.agency == 0) {
            p.agency = agency;
            _processIds.push(ocidHash);
        } else if (p.agency != agency) {
            _lifecycle("rule 2: a process received a notice from another agency");
        }

        _notices.push(
            GhostNotice({
                key: key,
                digest: n.digest,
                ocidHash: ocidHash,
                signer: signer,
                agency: agency,
                stage: n.stage,
                blockNumber: block.number,
                timestamp: block.timestamp,
                seq: ++_seq,
                tenderBefore: p.hasTender,
                cancelledBefore: p.cancelled,
                deadlineBefore: p.deadline
            })
        );
        if (p.hasTender && n.stage >= Stages.AWARD && n.stage <= Stages.CONTRACT_TERMINATION) ++awardsUnderTender;
        _applyRule4(p, n.stage, n.deadline);
        ++p.notices;
        _digestOf[key] = n.digest;
        _digestTaken[n.digest] = true;
        ++anchoredNotices;
    }

    /// @dev Rule 4 as DESIGN.md states it, applied to an accepted notice.
    function _applyRule4(GhostProcess storage p, uint8 stage, uint64 declared) private {
        if (stage >= Stages.TENDER && stage <= Stages.TENDER_UPDATE) {
            if (p.hasTender && p.deadline != 0) {
                if (declared != 0 && declared != p.deadline) {
                    // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
                    if (block.timestamp >= p.deadline) _lifecycle("rule 4: a passed deadline was moved");
                    if (p.firstAwardAt != 0 && declared > p.firstAwardAt) {
                        _lifecycle("rule 4: a deadline was moved after an anchored award");
                    }
                    p.deadline = declared;
                }
            } else if (declared != 0) {
                // No deadline known yet: this notice declares it.
                if (p.firstAwardAt != 0 && declared > p.firstAwardAt) {
                    _lifecycle("rule 4: a deadline was declared after an anchored award");
                }
                p.deadline = declared;
            }
            p.hasTender = true;
        } else if (stage == Stages.TENDER_CANCELLATION) {
            p.hasTender = true;
            if (!p.cancelled) p.cancelSeq = _seq;
            p.cancelled = true;
        } else if (stage >= Stages.AWARD && stage <= Stages.CONTRACT_TERMINATION) {
            if (p.hasTender) {
                if (p.cancelled) _lifecycle("rule 4: an award or contract after a cancellation");
                // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
                if (block.timestamp < p.deadline) _lifecycle("rule 4: an award or contract before the deadline");
            }
            if (p.firstAwardAt == 0) p.firstAwardAt = block.timestamp;
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

    function _sealKey(uint256 seed) private view returns (uint256 pk, address key) {
        uint256 i = seed % _sealPks.length;
        return (_sealPks[i], _sealKeys[i]);
    }

    /// @dev Usually an active key of the process's home agency (processes "a", "c", ... belong
    ///      to agency 1, "b", "d", ... to agency 2); sometimes a revoked key or any key at all,
    ///      so rules 1 and 2 are exercised without starving the other rules of successes.
    function _keyFor(uint256 keySeed, uint256 noticeSeed) private view returns (uint256 pk, address key) {
        uint256 h = _mix(keySeed, "key");
        if (h % 6 == 0) return _sealKey(h >> 8);
        uint32 home = _ocidIndex(noticeSeed) % 2 == 0 ? uint32(1) : uint32(2);
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

    function _relayer(uint256 seed) private view returns (address) {
        // The second relayer is picked whether or not it holds the role right now.
        return _mix(seed, "relayer") % 6 == 0 ? relayer2 : relayer;
    }

    function _isRelayer(address account) private view returns (bool) {
        return account == relayer || (account == relayer2 && relayer2Active);
    }

    /// @dev Process, release id and digest come from small pools; the deadline is none or
    ///      around now; the stage covers every known code plus unknown 0 and 17.
    function _notice(uint256 seed, uint256 stageSeed) private view returns (INoticeLedger.NoticeInput memory n) {
        uint256 h = _mix(seed, "notice");
        uint256 releaseIndex = (h >> 16) % RELEASES;
        uint256 digestIndex = (h >> 32) % (DIGESTS + 1);
        uint64 deadline;
        uint256 kind = (h >> 48) % 3;
        // None, within an hour of now (boundaries), or anywhere from two days ago to five ahead.
        if (kind == 1) deadline = uint64(block.timestamp - 1 hours + (h >> 64) % 2 hours);
        else if (kind == 2) deadline = uint64(block.timestamp - 2 days + (h >> 64) % 7 days);
        n = INoticeLedger.NoticeInput({
            ocid: string.concat("ocds-inv-", _letter(_ocidIndex(seed))),
            releaseId: string.concat("release-", _letter(releaseIndex)),
            stage: _stage(stageSeed),
            digest: digestIndex == DIGESTS ? bytes32(0) : keccak256(abi.encode("digest", digestIndex)),
            previous: bytes32(0),
            deadline: deadline
        });
    }

    /// @dev Spreads small fuzzer seeds (0, 1, 2, ...) over the whole pools.
    function _mix(uint256 seed, string memory tag) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(tag, seed)));
    }

    function _ocidIndex(uint256 noticeSeed) private pure returns (uint256) {
        return _mix(noticeSeed, "notice") % OCIDS;
    }

    /// @dev Every known stage plus unknown 0 and 17, weighted towards tenders and awards.
    function _stage(uint256 seed) private pure returns (uint8) {
        uint8[24] memory table = [
            Stages.PLANNING,
            Stages.PLANNING_UPDATE,
            Stages.TENDER,
            Stages.TENDER,
            Stages.TENDER,
            Stages.TENDER_AMENDMENT,
            Stages.TENDER_AMENDMENT,
            Stages.TENDER_UPDATE,
            Stages.TENDER_CANCELLATION,
            Stages.AWARD,
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
