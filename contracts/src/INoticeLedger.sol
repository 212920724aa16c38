// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title INoticeLedger
/// @notice Types, errors, events and external functions of the tenderledger notice ledger.
interface INoticeLedger {
    /// @notice A notice as sealed by its agency (the EIP-712 `Notice` type).
    /// @param ocid Open Contracting ID of the procurement process.
    /// @param releaseId OCDS release id, unique inside the process (or a document id).
    /// @param stage Stage code, see {Stages}.
    /// @param digest SHA-256 of the RFC 8785 canonical release (or of a document's raw bytes).
    /// @param previous keccak256 of the release id this one amends (OCDS amendsReleaseID) in the
    ///        same process, or zero; when set, that release must already be anchored.
    /// @param deadline Declared submission deadline (unix seconds), or zero when none.
    struct NoticeInput {
        string ocid;
        string releaseId;
        uint8 stage;
        bytes32 digest;
        bytes32 previous;
        uint64 deadline;
    }

    /// @notice A Merkle batch as sealed by its agency (the EIP-712 `Batch` type).
    /// @param root RFC 9162 Merkle tree head over the batch's leaves (notice key || digest).
    /// @param size Number of leaves.
    /// @param label Free text naming the batch (for example the archive it came from).
    struct BatchInput {
        bytes32 root;
        uint32 size;
        string label;
    }

    /// @notice What the ledger holds for an anchored notice. All fields are zero when none.
    struct NoticeRecord {
        bytes32 digest;
        address signer;
        uint32 agency;
        uint40 blockNumber;
        uint48 timestamp;
        uint8 stage;
    }

    /// @notice What the ledger holds for an anchored batch root. All fields are zero when none.
    struct BatchRecord {
        address signer;
        uint32 agency;
        uint40 blockNumber;
        uint48 timestamp;
    }

    /// @notice Lifecycle state of a procurement process.
    struct ProcessState {
        uint32 agency;
        uint64 deadline;
        bool hasTender;
        bool cancelled;
        uint32 notices;
        uint48 firstAwardAt;
    }

    /// @notice Text fields checked for emptiness and length.
    enum TextField {
        Ocid,
        ReleaseId,
        AgencyName,
        BatchLabel
    }

    // ---------------------------------------------------------------- errors

    /// @notice The digest (or batch root) is zero.
    error ZeroDigest();
    /// @notice A required text field is empty.
    error EmptyField(TextField field);
    /// @notice A text field is longer than MAX_TEXT_BYTES.
    error FieldTooLong(TextField field, uint256 length);
    /// @notice The stage code is not one of {Stages}.
    error UnknownStage(uint8 stage);
    /// @notice The seal is not a well-formed, low-s, 65-byte ECDSA signature.
    error InvalidSeal();
    /// @notice The seal recovers to an address that is not a registered seal key.
    error UnknownSealKey(address signer);
    /// @notice The seal key was revoked by governance.
    error RevokedSealKey(address signer);
    /// @notice The sender is neither the sealing key nor a relayer.
    error UnauthorizedSubmitter(address sender);
    /// @notice This (ocid, release id) is already anchored with exactly this digest.
    error NoticeAlreadyAnchored(bytes32 key);
    /// @notice This (ocid, release id) is already anchored with another digest: OCDS releases are immutable.
    error DigestConflict(bytes32 key, bytes32 anchoredDigest, bytes32 offeredDigest);
    /// @notice This digest is already anchored under another (ocid, release id).
    error DigestAlreadyAnchored(bytes32 digest);
    /// @notice The process is bound to another agency.
    error ProcessOfOtherAgency(bytes32 ocidHash, uint32 boundAgency, uint32 sealingAgency);
    /// @notice An award or contract arrived before the tender's submission deadline.
    error DeadlineNotPassed(bytes32 ocidHash, uint64 deadline);
    /// @notice An amendment tried to move a submission deadline that has already passed.
    error DeadlinePassed(bytes32 ocidHash, uint64 deadline);
    /// @notice An award or contract arrived after the tender was cancelled.
    error ProcessCancelled(bytes32 ocidHash);
    /// @notice A tender-stage notice declared a deadline later than an award or contract
    ///         already anchored for the process (which would then predate its own deadline).
    error DeadlineAfterAward(bytes32 ocidHash, uint64 deadline, uint48 firstAwardAt);
    /// @notice This batch root is already anchored.
    error BatchAlreadyAnchored(bytes32 root);
    /// @notice A multi-notice call carried no notices, or more than MAX_NOTICES_PER_CALL.
    error BadNoticeCount(uint256 count);
    /// @notice Notices and seals differ in number.
    error LengthMismatch(uint256 notices, uint256 seals);
    /// @notice An agency with this name is already registered.
    error AgencyAlreadyRegistered(uint32 agency);
    /// @notice No agency has this id.
    error UnknownAgency(uint32 agency);
    /// @notice This address is already (or was once) a seal key.
    error SealKeyAlreadyRegistered(address key, uint32 agency);
    /// @notice The zero address cannot be a seal key.
    error ZeroAddress();
    /// @notice The ocid falls under an ocid prefix that governance reserved for another agency.
    error OcidPrefixOfOtherAgency(bytes32 ocidHash, uint32 ownerAgency, uint32 sealingAgency);
    /// @notice The prefix is already reserved (for `agency`).
    error OcidPrefixAlreadyReserved(bytes32 prefixHash, uint32 agency);
    /// @notice A reserved prefix must read `scheme-publisher`: lowercase, one inner hyphen.
    error BadOcidPrefix();
    /// @notice The notice names a previous release (`previous`) that is not anchored in its process.
    error PreviousNotAnchored(bytes32 ocidHash, bytes32 previous);
    /// @notice A tender notice may not follow an amendment or update of the same process.
    error TenderAfterAmendment(bytes32 ocidHash);
    /// @notice A deadline may not be moved to or before the current block time.
    error DeadlineInPast(bytes32 ocidHash, uint64 deadline, uint256 blockTime);

    // ---------------------------------------------------------------- events

    /// @notice A new agency was registered by governance.
    event AgencyRegistered(uint32 indexed agency, string name);
    /// @notice A seal key was added to an agency.
    event SealKeyAdded(uint32 indexed agency, address indexed key);
    /// @notice A seal key was revoked; seals it made before stay valid.
    event SealKeyRevoked(uint32 indexed agency, address indexed key);
    /// @notice Governance reserved an ocid prefix (`scheme-publisher`, lowercase) for an agency.
    event OcidPrefixReserved(uint32 indexed agency, bytes32 indexed prefixHash, string prefix);
    /// @notice A sealed notice was anchored. Together with the key events, this event
    ///         alone rebuilds every notice record and every process state.
    event NoticeAnchored(
        bytes32 indexed key,
        bytes32 indexed ocidHash,
        bytes32 indexed digest,
        uint32 agency,
        address signer,
        NoticeInput notice,
        bytes seal
    );
    /// @notice A sealed Merkle batch root was anchored.
    event BatchAnchored(
        bytes32 indexed root, uint32 indexed agency, address signer, uint32 size, string label, bytes seal
    );

    // ---------------------------------------------------------------- governance

    /// @notice Registers an agency. Only GOVERNANCE_ROLE.
    /// @param name Unique agency name, 1 to MAX_TEXT_BYTES bytes.
    /// @return agency The new agency id (1, 2, ...).
    function registerAgency(string calldata name) external returns (uint32 agency);

    /// @notice Adds a seal key to an agency. Only GOVERNANCE_ROLE. A key serves one agency, once.
    /// @param agency Agency id.
    /// @param key Address of the seal key.
    function addSealKey(uint32 agency, address key) external;

    /// @notice Revokes a seal key from now on. Only GOVERNANCE_ROLE. Records it sealed stay valid.
    /// @param key Address of the seal key.
    function revokeSealKey(address key) external;

    /// @notice Reserves an ocid prefix for an agency: nobody else opens a process whose ocid
    ///         starts with it (compared case-insensitively, up to the ocid's second hyphen).
    /// @param agency Agency that publishes under the prefix.
    /// @param prefix `scheme-publisher`, lowercase, e.g. `ocds-213czf`.
    function reserveOcidPrefix(uint32 agency, string calldata prefix) external;

    // ---------------------------------------------------------------- anchoring

    /// @notice Anchors one sealed notice. The sender must be the sealing key or a relayer.
    /// @param notice The sealed fields.
    /// @param seal 65-byte EIP-712 signature (r, s, v) by an active seal key of the agency.
    function anchorNotice(NoticeInput calldata notice, bytes calldata seal) external;

    /// @notice Anchors several sealed notices at once, in order; all or none. A notice
    ///         already anchored with the same digest is skipped, so retries are idempotent.
    /// @param notices The sealed fields, 1 to MAX_NOTICES_PER_CALL of them.
    /// @param seals One seal per notice.
    /// @return anchoredCount How many notices were newly anchored.
    function anchorNotices(NoticeInput[] calldata notices, bytes[] calldata seals)
        external
        returns (uint256 anchoredCount);

    /// @notice Anchors a sealed Merkle batch root. Lifecycle rules do not apply to its content.
    /// @param batch The sealed batch fields.
    /// @param seal 65-byte EIP-712 signature by an active seal key.
    function anchorBatch(BatchInput calldata batch, bytes calldata seal) external;

    // ---------------------------------------------------------------- views

    /// @notice Key of an (ocid, release id): keccak256(abi.encode(keccak256(ocid), keccak256(releaseId))).
    function noticeKey(string calldata ocid, string calldata releaseId) external pure returns (bytes32);

    /// @notice The EIP-712 hash a seal key signs for `notice` on this chain and contract.
    function noticeTypedDataHash(NoticeInput calldata notice) external view returns (bytes32);

    /// @notice The EIP-712 hash a seal key signs for `batch` on this chain and contract.
    function batchTypedDataHash(BatchInput calldata batch) external view returns (bytes32);

    /// @notice The record anchored under a notice key, or all zeros.
    function recordByKey(bytes32 key) external view returns (NoticeRecord memory);

    /// @notice The record anchored with a digest, or all zeros.
    function recordByDigest(bytes32 digest) external view returns (NoticeRecord memory);

    /// @notice {recordByKey} for many keys in one call.
    function recordsByKey(bytes32[] calldata keys) external view returns (NoticeRecord[] memory);

    /// @notice {recordByDigest} for many digests in one call.
    function recordsByDigest(bytes32[] calldata digests) external view returns (NoticeRecord[] memory);

    /// @notice The record of an anchored batch root, or all zeros.
    function batchRecord(bytes32 root) external view returns (BatchRecord memory);

    /// @notice Lifecycle state of the process keccak256(ocid).
    function processOf(bytes32 ocidHash) external view returns (ProcessState memory);

    /// @notice Agency and validity window (blocks) of a seal key; revokedBlock is 0 while active.
    function sealKey(address key) external view returns (uint32 agency, uint40 addedBlock, uint40 revokedBlock);

    /// @notice Agency id registered under `name`, or 0.
    function agencyOf(string calldata name) external view returns (uint32);

    /// @notice Number of agencies registered and batch roots anchored (never decreases).
    ///         Notices are counted per process ({processOf}) to keep anchoring cheap.
    function counts() external view returns (uint32 agencies, uint64 batches);

    /// @notice The agency an ocid prefix is reserved for (0 when none), by the prefix's hash.
    function prefixOwner(bytes32 prefixHash) external view returns (uint32);

    /// @notice The reserved-prefix hash an ocid falls under: keccak256 of its lowercased text
    ///         up to (not including) its second hyphen; 0 when it has fewer than two hyphens.
    function ocidPrefixHash(string calldata ocid) external pure returns (bytes32);
}
