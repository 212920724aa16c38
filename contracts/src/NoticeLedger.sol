// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {INoticeLedger} from "./INoticeLedger.sol";
import {Stages} from "./Stages.sol";

/// @title NoticeLedger
/// @notice Tamper-evident ledger of public-procurement notices (OCDS releases and
///         evidence documents). Each notice is sealed off chain by an agency key with an
///         EIP-712 signature; the ledger recovers the signer itself, so a relayer can
///         submit a notice but cannot forge one.
/// @dev Rules enforced here:
///      1. Only governance registers agencies and adds or revokes their seal keys. A
///         revoked key seals nothing new; records it sealed before stay valid.
///      2. The first notice of an ocid binds the process to its agency. Governance may
///         reserve ocid prefixes for an agency: nobody else opens a process under them.
///      3. An (ocid, release id) is anchored once; another digest for it is refused
///         with {DigestConflict} (OCDS: a release is immutable).
///      4. With a tender on the ledger, award and contract stages are refused before the
///         declared submission deadline and after a cancellation; an amendment moves the
///         deadline only while it has not passed, and never to or before the block time;
///         a notice naming a previous release needs it anchored in the same process; no
///         tender follows an amendment. A process may open at a later stage.
///      5. Every state change emits an event from which all records can be rebuilt.
///      6. Merkle batch roots (RFC 9162 trees whose leaves are notice key || digest) are
///         anchored whole; lifecycle rules do not apply to their content (verification
///         enforces first-anchor-wins and process ownership for batch members).
///      7. Evidence documents are scoped to their process: the same file may be anchored
///         for several processes, and its digest is not unique ledger-wide.
contract NoticeLedger is INoticeLedger, AccessControlDefaultAdminRules, EIP712 {
    /// @notice Role allowed to register agencies and manage their seal keys.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice Role allowed to submit notices sealed by somebody else.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");

    /// @notice EIP-712 type of a sealed notice.
    bytes32 public constant NOTICE_TYPEHASH = keccak256(
        "Notice(string ocid,string releaseId,uint8 stage,bytes32 digest,bytes32 previous,uint64 deadline)"
    );
    /// @notice EIP-712 type of a sealed Merkle batch.
    bytes32 public constant BATCH_TYPEHASH = keccak256("Batch(bytes32 root,uint32 size,string label)");

    /// @notice Longest accepted ocid, release id, agency name or batch label, in bytes.
    uint256 public constant MAX_TEXT_BYTES = 256;
    /// @notice Most notices accepted in one {anchorNotices} call.
    uint256 public constant MAX_NOTICES_PER_CALL = 256;

    uint8 private constant FLAG_TENDER = 1;
    uint8 private constant FLAG_CANCELLED = 2;
    uint8 private constant FLAG_AMENDED = 4;
    /// @notice Longest reserved ocid prefix, in bytes.
    uint256 public constant MAX_PREFIX_BYTES = 64;

    struct SealKey {
        uint32 agency; // 0: never registered
        uint40 addedBlock;
        uint40 revokedBlock; // 0: active
    }

    struct Process {
        uint32 agency; // 0: no notice yet
        uint64 deadline; // declared submission deadline of the tender, 0 when none
        uint8 flags; // FLAG_TENDER | FLAG_CANCELLED | FLAG_AMENDED
        uint32 notices;
        uint48 firstAwardAt; // time of the first award or contract notice, 0 when none
    }

    /// @dev Packed record of one anchored digest: signer | block | timestamp | stage.
    type PackedRecord is uint256;

    uint32 private _agencyCount;
    uint64 private _batchCount;

    mapping(uint32 agency => bytes32 nameHash) private _agencyNames;
    mapping(bytes32 nameHash => uint32 agency) private _agencyByName;
    mapping(address key => SealKey) private _keys;
    mapping(bytes32 ocidHash => Process) private _processes;
    mapping(bytes32 noticeKey => bytes32 digest) private _digestOf;
    mapping(bytes32 digest => PackedRecord) private _records;
    mapping(bytes32 root => PackedRecord) private _batches;
    mapping(bytes32 prefixHash => uint32 agency) private _prefixOwners;
    /// @dev Evidence documents' records, by notice key: apart from release records, whose
    ///      slots are digests the sealer chooses, so neither kind can land on the other's slot.
    mapping(bytes32 noticeKey => PackedRecord) private _documentRecords;

    /// @param initialDelay Delay (seconds) before a new governance admin can accept the role.
    /// @param admin First governance admin; also granted GOVERNANCE_ROLE.
    constructor(uint48 initialDelay, address admin)
        AccessControlDefaultAdminRules(initialDelay, admin)
        EIP712("tenderledger", "1")
    {
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc INoticeLedger
    function registerAgency(string calldata name) external onlyRole(GOVERNANCE_ROLE) returns (uint32 agency) {
        _checkText(bytes(name), TextField.AgencyName);
        bytes32 nameHash = keccak256(bytes(name));
        if (_agencyByName[nameHash] != 0) revert AgencyAlreadyRegistered(_agencyByName[nameHash]);
        agency = ++_agencyCount;
        _agencyNames[agency] = nameHash;
        _agencyByName[nameHash] = agency;
        emit AgencyRegistered(agency, name);
    }

    /// @inheritdoc INoticeLedger
    function addSealKey(uint32 agency, address key) external onlyRole(GOVERNANCE_ROLE) {
        if (agency == 0 || agency > _agencyCount) revert UnknownAgency(agency);
        if (key == address(0)) revert ZeroAddress();
        if (_keys[key].agency != 0) revert SealKeyAlreadyRegistered(key, _keys[key].agency);
        _keys[key] = SealKey({agency: agency, addedBlock: uint40(block.number), revokedBlock: 0});
        emit SealKeyAdded(agency, key);
    }

    /// @inheritdoc INoticeLedger
    function revokeSealKey(address key) external onlyRole(GOVERNANCE_ROLE) {
        SealKey storage info = _keys[key];
        if (info.agency == 0) revert UnknownSealKey(key);
        if (info.revokedBlock != 0) revert RevokedSealKey(key);
        info.revokedBlock = uint40(block.number);
        emit SealKeyRevoked(info.agency, key);
    }

    /// @inheritdoc INoticeLedger
    function reserveOcidPrefix(uint32 agency, string calldata prefix) external onlyRole(GOVERNANCE_ROLE) {
        if (agency == 0 || agency > _agencyCount) revert UnknownAgency(agency);
        bytes calldata text = bytes(prefix);
        if (text.length < 3 || text.length > MAX_PREFIX_BYTES) revert BadOcidPrefix();
        uint256 hyphens = 0;
        for (uint256 i; i < text.length; ++i) {
            bytes1 c = text[i];
            if (c == "-") ++hyphens;
            else if (c >= "A" && c <= "Z") revert BadOcidPrefix();
        }
        if (hyphens != 1 || text[0] == "-" || text[text.length - 1] == "-") revert BadOcidPrefix();
        bytes32 prefixHash = keccak256(text);
        uint32 reservedFor = _prefixOwners[prefixHash];
        if (reservedFor != 0) revert OcidPrefixAlreadyReserved(prefixHash, reservedFor);
        _prefixOwners[prefixHash] = agency;
        emit OcidPrefixReserved(agency, prefixHash, prefix);
    }

    // ------------------------------------------------------------------ anchoring

    /// @inheritdoc INoticeLedger
    function anchorNotice(NoticeInput calldata notice, bytes calldata seal) external {
        bytes32 key = noticeKey(notice.ocid, notice.releaseId);
        bytes32 anchored = _digestOf[key];
        if (anchored != 0) {
            if (anchored == notice.digest) revert NoticeAlreadyAnchored(key);
            revert DigestConflict(key, anchored, notice.digest);
        }
        _anchor(notice, key, seal);
    }

    /// @inheritdoc INoticeLedger
    function anchorNotices(NoticeInput[] calldata notices, bytes[] calldata seals)
        external
        returns (uint256 anchoredCount)
    {
        uint256 n = notices.length;
        if (n == 0 || n > MAX_NOTICES_PER_CALL) revert BadNoticeCount(n);
        if (seals.length != n) revert LengthMismatch(n, seals.length);
        for (uint256 i; i < n; ++i) {
            NoticeInput calldata notice = notices[i];
            bytes32 key = noticeKey(notice.ocid, notice.releaseId);
            bytes32 anchored = _digestOf[key];
            if (anchored != 0) {
                // An exact duplicate is a retry: skipping it keeps resubmission idempotent.
                if (anchored == notice.digest) continue;
                revert DigestConflict(key, anchored, notice.digest);
            }
            _anchor(notice, key, seals[i]);
            ++anchoredCount;
        }
    }

    /// @inheritdoc INoticeLedger
    function anchorBatch(BatchInput calldata batch, bytes calldata seal) external {
        if (batch.root == 0) revert ZeroDigest();
        if (batch.size == 0) revert BadNoticeCount(0);
        _checkText(bytes(batch.label), TextField.BatchLabel);
        if (PackedRecord.unwrap(_batches[batch.root]) != 0) revert BatchAlreadyAnchored(batch.root);
        bytes32 structHash = keccak256(abi.encode(BATCH_TYPEHASH, batch.root, batch.size, keccak256(bytes(batch.label))));
        (address signer, uint32 agency) = _checkSeal(_hashTypedDataV4(structHash), seal);
        _batches[batch.root] = _pack(signer, 0);
        unchecked {
            ++_batchCount;
        }
        emit BatchAnchored(batch.root, agency, signer, batch.size, batch.label, seal);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc INoticeLedger
    function noticeKey(string calldata ocid, string calldata releaseId) public pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(ocid)), keccak256(bytes(releaseId))));
    }

    /// @inheritdoc INoticeLedger
    function noticeTypedDataHash(NoticeInput calldata notice) public view returns (bytes32) {
        return _hashTypedDataV4(_noticeStructHash(notice));
    }

    /// @inheritdoc INoticeLedger
    function batchTypedDataHash(BatchInput calldata batch) external view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(BATCH_TYPEHASH, batch.root, batch.size, keccak256(bytes(batch.label))))
        );
    }

    /// @inheritdoc INoticeLedger
    function recordByKey(bytes32 key) public view returns (NoticeRecord memory record) {
        bytes32 digest = _digestOf[key];
        if (digest == 0) return record;
        PackedRecord packed = _documentRecords[key];
        if (PackedRecord.unwrap(packed) == 0) packed = _records[digest];
        record = _unpack(digest, packed);
    }

    /// @inheritdoc INoticeLedger
    function recordByDigest(bytes32 digest) public view returns (NoticeRecord memory record) {
        PackedRecord packed = _records[digest];
        if (PackedRecord.unwrap(packed) != 0) record = _unpack(digest, packed);
    }

    /// @inheritdoc INoticeLedger
    function recordsByKey(bytes32[] calldata keys) external view returns (NoticeRecord[] memory records) {
        records = new NoticeRecord[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            records[i] = recordByKey(keys[i]);
        }
    }

    /// @inheritdoc INoticeLedger
    function recordsByDigest(bytes32[] calldata digests) external view returns (NoticeRecord[] memory records) {
        records = new NoticeRecord[](digests.length);
        for (uint256 i; i < digests.length; ++i) {
            records[i] = recordByDigest(digests[i]);
        }
    }

    /// @inheritdoc INoticeLedger
    function batchRecord(bytes32 root) external view returns (BatchRecord memory record) {
        uint256 packed = PackedRecord.unwrap(_batches[root]);
        if (packed == 0) return record;
        // forge-lint: disable-next-line(unsafe-typecast) the packing puts the signer in the top 160 bits
        address signer = address(uint160(packed >> 96));
        // forge-lint: disable-start(unsafe-typecast) each field is cut from its own bits of the packing
        record = BatchRecord({
            signer: signer,
            agency: _keys[signer].agency,
            blockNumber: uint40(packed >> 56),
            timestamp: uint48(packed >> 8)
        });
        // forge-lint: disable-end(unsafe-typecast)
    }

    /// @inheritdoc INoticeLedger
    function prefixOwner(bytes32 prefixHash) external view returns (uint32) {
        return _prefixOwners[prefixHash];
    }

    /// @inheritdoc INoticeLedger
    function ocidPrefixHash(string calldata ocid) public pure returns (bytes32) {
        bytes calldata text = bytes(ocid);
        uint256 hyphens;
        uint256 end;
        for (; end < text.length; ++end) {
            if (text[end] == "-" && ++hyphens == 2) break;
        }
        if (hyphens < 2 || end == 0) return 0;
        bytes memory lowered = new bytes(end);
        for (uint256 i; i < end; ++i) {
            bytes1 c = text[i];
            lowered[i] = c >= "A" && c <= "Z" ? bytes1(uint8(c) + 32) : c;
        }
        return keccak256(lowered);
    }

    /// @inheritdoc INoticeLedger
    function processOf(bytes32 ocidHash) external view returns (ProcessState memory state) {
        Process storage p = _processes[ocidHash];
        state = ProcessState({
            agency: p.agency,
            deadline: p.deadline,
            hasTender: p.flags & FLAG_TENDER != 0,
            cancelled: p.flags & FLAG_CANCELLED != 0,
            notices: p.notices,
            firstAwardAt: p.firstAwardAt
        });
    }

    /// @inheritdoc INoticeLedger
    function sealKey(address key) external view returns (uint32 agency, uint40 addedBlock, uint40 revokedBlock) {
        SealKey storage info = _keys[key];
        return (info.agency, info.addedBlock, info.revokedBlock);
    }

    /// @inheritdoc INoticeLedger
    function agencyOf(string calldata name) external view returns (uint32) {
        return _agencyByName[keccak256(bytes(name))];
    }

    /// @inheritdoc INoticeLedger
    function counts() external view returns (uint32 agencies, uint64 batches) {
        return (_agencyCount, _batchCount);
    }

    // ------------------------------------------------------------------ internals

    function _anchor(NoticeInput calldata notice, bytes32 key, bytes calldata seal) private {
        _checkNoticeFields(notice);
        // Rule 7: a document's record lives under its own notice key, so the same file can be
        // anchored for several processes and nobody can squat its digest.
        bool isDocument = notice.stage == Stages.DOCUMENT;
        if (!isDocument && PackedRecord.unwrap(_records[notice.digest]) != 0) {
            revert DigestAlreadyAnchored(notice.digest);
        }
        (address signer, uint32 agency) = _checkSeal(noticeTypedDataHash(notice), seal);

        bytes32 ocidHash = keccak256(bytes(notice.ocid));
        Process memory p = _processes[ocidHash];
        if (p.agency == 0) {
            bytes32 prefixHash = ocidPrefixHash(notice.ocid);
            uint32 reservedFor = prefixHash == 0 ? 0 : _prefixOwners[prefixHash];
            if (reservedFor != 0 && reservedFor != agency) revert OcidPrefixOfOtherAgency(ocidHash, reservedFor, agency);
            p.agency = agency;
        } else if (p.agency != agency) {
            revert ProcessOfOtherAgency(ocidHash, p.agency, agency);
        }
        if (notice.previous != 0 && _digestOf[keccak256(abi.encode(ocidHash, notice.previous))] == 0) {
            revert PreviousNotAnchored(ocidHash, notice.previous);
        }
        _applyLifecycle(p, ocidHash, notice.stage, notice.deadline);
        unchecked {
            ++p.notices;
        }
        _processes[ocidHash] = p;
        _digestOf[key] = notice.digest;
        if (isDocument) _documentRecords[key] = _pack(signer, notice.stage);
        else _records[notice.digest] = _pack(signer, notice.stage);
        emit NoticeAnchored(key, ocidHash, notice.digest, agency, signer, notice, seal);
    }

    /// @dev Rule 4. Mutates `p` in memory; the caller stores it. No award or contract is ever
    ///      older than its process's deadline: a deadline is refused when it would fall after
    ///      an award already on the ledger (declared late, or by a tender after a direct award).
    function _applyLifecycle(Process memory p, bytes32 ocidHash, uint8 stage, uint64 declared) private view {
        if (Stages.isTenderStage(stage)) {
            if (stage == Stages.TENDER && p.flags & FLAG_AMENDED != 0) revert TenderAfterAmendment(ocidHash);
            bool hasDeadline = p.flags & FLAG_TENDER != 0 && p.deadline != 0;
            bool changes = hasDeadline ? declared != 0 && declared != p.deadline : declared != 0;
            if (changes) {
                if (hasDeadline) {
                    // forge-lint: disable-start(block-timestamp) rule 4 is about time
                    if (block.timestamp >= p.deadline) revert DeadlinePassed(ocidHash, p.deadline);
                    if (declared <= block.timestamp) revert DeadlineInPast(ocidHash, declared, block.timestamp);
                    // forge-lint: disable-end(block-timestamp)
                }
                if (p.firstAwardAt != 0 && declared > p.firstAwardAt) {
                    revert DeadlineAfterAward(ocidHash, declared, p.firstAwardAt);
                }
                p.deadline = declared;
            }
            p.flags |= stage == Stages.TENDER ? FLAG_TENDER : FLAG_TENDER | FLAG_AMENDED;
        } else if (stage == Stages.TENDER_CANCELLATION) {
            p.flags |= FLAG_TENDER | FLAG_CANCELLED;
        } else if (Stages.isAwardOrContractStage(stage)) {
            if (p.flags & FLAG_TENDER != 0) {
                if (p.flags & FLAG_CANCELLED != 0) revert ProcessCancelled(ocidHash);
                // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
                if (block.timestamp < p.deadline) revert DeadlineNotPassed(ocidHash, p.deadline);
            }
            if (p.firstAwardAt == 0) p.firstAwardAt = uint48(block.timestamp);
        }
    }

    function _checkNoticeFields(NoticeInput calldata notice) private pure {
        if (notice.digest == 0) revert ZeroDigest();
        _checkText(bytes(notice.ocid), TextField.Ocid);
        _checkText(bytes(notice.releaseId), TextField.ReleaseId);
        if (!Stages.isKnown(notice.stage)) revert UnknownStage(notice.stage);
    }

    function _checkText(bytes calldata text, TextField field) private pure {
        if (text.length == 0) revert EmptyField(field);
        if (text.length > MAX_TEXT_BYTES) revert FieldTooLong(field, text.length);
    }

    /// @dev Recovers the sealer, refuses malformed or malleable (high-s) signatures, unknown
    ///      and revoked keys, and senders that are neither the sealer nor a relayer.
    function _checkSeal(bytes32 typedDataHash, bytes calldata seal) private view returns (address, uint32) {
        if (seal.length != 65) revert InvalidSeal();
        bytes32 r = bytes32(seal[0:32]);
        bytes32 s = bytes32(seal[32:64]);
        uint8 v = uint8(seal[64]);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(typedDataHash, v, r, s);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSeal();
        SealKey memory info = _keys[signer];
        if (info.agency == 0) revert UnknownSealKey(signer);
        if (info.revokedBlock != 0) revert RevokedSealKey(signer);
        if (msg.sender != signer && !hasRole(RELAYER_ROLE, msg.sender)) revert UnauthorizedSubmitter(msg.sender);
        return (signer, info.agency);
    }

    function _noticeStructHash(NoticeInput calldata notice) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                NOTICE_TYPEHASH,
                keccak256(bytes(notice.ocid)),
                keccak256(bytes(notice.releaseId)),
                notice.stage,
                notice.digest,
                notice.previous,
                notice.deadline
            )
        );
    }

    function _pack(address signer, uint8 stage) private view returns (PackedRecord) {
        return PackedRecord.wrap(
            uint256(uint160(signer)) << 96 | uint256(uint40(block.number)) << 56
                | uint256(uint48(block.timestamp)) << 8 | stage
        );
    }

    function _unpack(bytes32 digest, PackedRecord packedRecord) private view returns (NoticeRecord memory) {
        uint256 packed = PackedRecord.unwrap(packedRecord);
        // forge-lint: disable-start(unsafe-typecast) each field is cut from its own bits of the packing
        address signer = address(uint160(packed >> 96));
        return NoticeRecord({
            digest: digest,
            signer: signer,
            agency: _keys[signer].agency,
            blockNumber: uint40(packed >> 56),
            timestamp: uint48(packed >> 8),
            stage: uint8(packed)
        });
        // forge-lint: disable-end(unsafe-typecast)
    }
}
