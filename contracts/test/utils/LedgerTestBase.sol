// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {NoticeLedger} from "../../src/NoticeLedger.sol";
import {INoticeLedger} from "../../src/INoticeLedger.sol";
import {Stages} from "../../src/Stages.sol";
import {SealHashing} from "./SealHashing.sol";
import {TestBase} from "./TestBase.sol";

/// @title LedgerTestBase
/// @notice A deployed ledger with two agencies, their seal keys, a governor, a relayer and
///         an outsider; plus sealing as an off-chain agency signer does it ({SealHashing}).
abstract contract LedgerTestBase is TestBase {
    // ------------------------------------------------------------ EIP-712, from the spec

    string internal constant NOTICE_TYPE = SealHashing.NOTICE_TYPE;
    string internal constant BATCH_TYPE = SealHashing.BATCH_TYPE;
    string internal constant DOMAIN_NAME = SealHashing.DOMAIN_NAME;
    string internal constant DOMAIN_VERSION = SealHashing.DOMAIN_VERSION;

    // ------------------------------------------------------------ fixture

    uint48 internal constant ADMIN_DELAY = 3 days;
    uint64 internal constant START_TIME = 1_700_000_000;
    uint256 internal constant START_BLOCK = 19_000_000;
    string internal constant WORKS_NAME = "Ministry of Public Works";
    string internal constant CITY_NAME = "City of Riverton";
    string internal constant OCID = "ocds-213czf-000-00001";

    NoticeLedger internal ledger;
    bytes32 internal GOVERNANCE_ROLE;
    bytes32 internal RELAYER_ROLE;
    bytes32 internal constant DEFAULT_ADMIN_ROLE = 0x00;

    address internal admin;
    address internal governor;
    address internal relayer;
    address internal outsider;

    uint32 internal works;
    uint32 internal city;
    uint256 internal worksPk;
    address internal worksKey;
    uint256 internal worksPk2;
    address internal worksKey2;
    uint256 internal cityPk;
    address internal cityKey;
    /// @dev A well-formed key that is never registered.
    uint256 internal strangerPk;
    address internal strangerKey;

    function setUp() public virtual {
        vm.warp(START_TIME);
        vm.roll(START_BLOCK);

        admin = makeAccount("admin");
        governor = makeAccount("governor");
        relayer = makeAccount("relayer");
        outsider = makeAccount("outsider");
        (worksPk, worksKey) = makeKey("works seal 1");
        (worksPk2, worksKey2) = makeKey("works seal 2");
        (cityPk, cityKey) = makeKey("city seal");
        (strangerPk, strangerKey) = makeKey("stranger");

        ledger = new NoticeLedger(ADMIN_DELAY, admin);
        vm.label(address(ledger), "ledger");
        GOVERNANCE_ROLE = ledger.GOVERNANCE_ROLE();
        RELAYER_ROLE = ledger.RELAYER_ROLE();

        vm.startPrank(admin);
        ledger.grantRole(GOVERNANCE_ROLE, governor);
        ledger.grantRole(RELAYER_ROLE, relayer);
        vm.stopPrank();

        vm.startPrank(governor);
        works = ledger.registerAgency(WORKS_NAME);
        city = ledger.registerAgency(CITY_NAME);
        ledger.addSealKey(works, worksKey);
        ledger.addSealKey(works, worksKey2);
        ledger.addSealKey(city, cityKey);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ notices

    /// @notice A notice with no `previous` link.
    function notice(string memory ocid, string memory releaseId, uint8 stage, bytes32 digest, uint64 deadline)
        internal
        pure
        returns (INoticeLedger.NoticeInput memory)
    {
        return INoticeLedger.NoticeInput({
            ocid: ocid,
            releaseId: releaseId,
            stage: stage,
            digest: digest,
            previous: bytes32(0),
            deadline: deadline
        });
    }

    /// @notice A notice of process OCID, release id "<OCID>-<tag>", digest derived from the tag.
    function notice(string memory tag, uint8 stage, uint64 deadline)
        internal
        pure
        returns (INoticeLedger.NoticeInput memory)
    {
        return notice(OCID, releaseIdOf(OCID, tag), stage, digestOf(OCID, tag), deadline);
    }

    function releaseIdOf(string memory ocid, string memory tag) internal pure returns (string memory) {
        return string.concat(ocid, "-", tag);
    }

    /// @notice Stands in for the SHA-256 of a canonical release.
    function digestOf(string memory ocid, string memory tag) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(ocid, "/", tag));
    }

    function ocidHashOf(string memory ocid) internal pure returns (bytes32) {
        return keccak256(bytes(ocid));
    }

    /// @notice The notice key as documented: keccak256(abi.encode(keccak256(ocid), keccak256(releaseId))).
    function keyOf(string memory ocid, string memory releaseId) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(ocid)), keccak256(bytes(releaseId))));
    }

    function keyOf(INoticeLedger.NoticeInput memory n) internal pure returns (bytes32) {
        return keyOf(n.ocid, n.releaseId);
    }

    /// @notice What `previous` holds to name the release `releaseId` of the same process:
    ///         keccak256(bytes(releaseId)) (OCDS amendsReleaseID), not the notice key.
    function previousOf(string memory releaseId) internal pure returns (bytes32) {
        return keccak256(bytes(releaseId));
    }

    /// @notice `n` with `previous` naming `releaseId` (of the same process).
    function amending(INoticeLedger.NoticeInput memory n, string memory releaseId)
        internal
        pure
        returns (INoticeLedger.NoticeInput memory)
    {
        n.previous = previousOf(releaseId);
        return n;
    }

    // ------------------------------------------------------------ EIP-712 hashing

    function noticeStructHash(INoticeLedger.NoticeInput memory n) internal pure returns (bytes32) {
        return SealHashing.noticeStructHash(n);
    }

    function batchStructHash(INoticeLedger.BatchInput memory b) internal pure returns (bytes32) {
        return SealHashing.batchStructHash(b);
    }

    function typedDataHash(bytes32 structHash, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return SealHashing.typedDataHash(structHash, chainId, verifyingContract);
    }

    /// @notice What a signer signs for `n` on the current chain and `ledger`.
    function noticeHash(INoticeLedger.NoticeInput memory n) internal view returns (bytes32) {
        return typedDataHash(noticeStructHash(n), block.chainid, address(ledger));
    }

    function batchHash(INoticeLedger.BatchInput memory b) internal view returns (bytes32) {
        return typedDataHash(batchStructHash(b), block.chainid, address(ledger));
    }

    // ------------------------------------------------------------ sealing

    /// @notice A 65-byte (r, s, v) signature, the layout the ledger expects.
    function sign(uint256 privateKey, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, hash);
        return abi.encodePacked(r, s, v);
    }

    function sealNotice(uint256 privateKey, INoticeLedger.NoticeInput memory n) internal view returns (bytes memory) {
        return sign(privateKey, noticeHash(n));
    }

    function sealBatch(uint256 privateKey, INoticeLedger.BatchInput memory b) internal view returns (bytes memory) {
        return sign(privateKey, batchHash(b));
    }

    /// @notice The malleable twin of a low-s seal: s' = n - s and the other parity.
    function malleate(bytes memory seal) internal pure returns (bytes memory) {
        (bytes32 r, bytes32 s, uint8 v) = splitSeal(seal);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function splitSeal(bytes memory seal) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        require(seal.length == 65, "seal length");
        assembly ("memory-safe") {
            r := mload(add(seal, 32))
            s := mload(add(seal, 64))
            v := byte(0, mload(add(seal, 96)))
        }
    }

    /// @notice The address a seal recovers to for `hash` (zero when it recovers to none).
    function recoverSigner(bytes32 hash, bytes memory seal) internal pure returns (address) {
        (bytes32 r, bytes32 s, uint8 v) = splitSeal(seal);
        return ecrecover(hash, v, r, s);
    }

    // ------------------------------------------------------------ anchoring

    /// @notice Seals `n` with `privateKey` and submits it from the key's own address.
    function anchorAs(uint256 privateKey, INoticeLedger.NoticeInput memory n) internal {
        bytes memory seal = sealNotice(privateKey, n);
        vm.prank(vm.addr(privateKey));
        ledger.anchorNotice(n, seal);
    }

    /// @notice Seals `n` with `privateKey` and has the relayer submit it.
    function relay(uint256 privateKey, INoticeLedger.NoticeInput memory n) internal {
        bytes memory seal = sealNotice(privateKey, n);
        vm.prank(relayer);
        ledger.anchorNotice(n, seal);
    }

    function batch(bytes32 root, uint32 size, string memory label)
        internal
        pure
        returns (INoticeLedger.BatchInput memory)
    {
        return INoticeLedger.BatchInput({root: root, size: size, label: label});
    }

    // ------------------------------------------------------------ record checks

    function assertRecord(
        INoticeLedger.NoticeRecord memory record,
        bytes32 digest,
        address signer,
        uint32 agency,
        uint256 blockNumber,
        uint256 timestamp,
        uint8 stage
    ) internal pure {
        assertEq(record.digest, digest, "record.digest");
        assertEq(record.signer, signer, "record.signer");
        assertEq(uint256(record.agency), uint256(agency), "record.agency");
        assertEq(uint256(record.blockNumber), blockNumber, "record.blockNumber");
        assertEq(uint256(record.timestamp), timestamp, "record.timestamp");
        assertEq(uint256(record.stage), uint256(stage), "record.stage");
    }

    function assertNoRecord(INoticeLedger.NoticeRecord memory record) internal pure {
        assertRecord(record, bytes32(0), address(0), 0, 0, 0, 0);
    }

    function assertSameRecord(INoticeLedger.NoticeRecord memory a, INoticeLedger.NoticeRecord memory b)
        internal
        pure
    {
        assertRecord(a, b.digest, b.signer, b.agency, b.blockNumber, b.timestamp, b.stage);
    }

    /// @notice Asserts `n` was stored, signed by `signer` of `agency`, in the current block.
    ///         A notice is found by its digest too; an evidence document only by its key
    ///         (rule 7: its digest may serve several processes), so recordByDigest never
    ///         returns a document.
    function assertAnchoredNow(INoticeLedger.NoticeInput memory n, address signer, uint32 agency) internal view {
        INoticeLedger.NoticeRecord memory byKey = ledger.recordByKey(keyOf(n));
        assertRecord(byKey, n.digest, signer, agency, block.number, block.timestamp, n.stage);
        if (n.stage == Stages.DOCUMENT) {
            assertTrue(ledger.recordByDigest(n.digest).stage != Stages.DOCUMENT, "recordByDigest returned a document");
        } else {
            assertSameRecord(ledger.recordByDigest(n.digest), byKey);
        }
    }

    function assertNotAnchored(INoticeLedger.NoticeInput memory n) internal view {
        assertNoRecord(ledger.recordByKey(keyOf(n)));
        assertNoRecord(ledger.recordByDigest(n.digest));
    }

    /// @notice A text of `length` copies of `fill`, for length-limit boundaries.
    function filled(uint256 length, bytes1 fill) internal pure returns (string memory) {
        bytes memory out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = fill;
        }
        return string(out);
    }

    /// @notice `value` in decimal, for building distinct ocids and release ids in loops.
    function decimal(uint256 value) internal pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            ++digits;
        }
        bytes memory out = new bytes(digits);
        for (; value != 0; value /= 10) {
            out[--digits] = bytes("0123456789")[value % 10];
        }
        return string(out);
    }
}
