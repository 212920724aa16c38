// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {NoticeLedger} from "../src/NoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title SealsTest
/// @notice The ledger recovers the sealer itself: seals are EIP-712 signatures bound to this
///         chain and this contract, low-s only, by an active key; the sender is the sealer
///         or a relayer, and a relayer cannot alter what was sealed.
contract SealsTest is LedgerTestBase {
    INoticeLedger.NoticeInput internal tender;

    function setUp() public override {
        super.setUp();
        tender = notice("tender", Stages.TENDER, START_TIME + 10 days);
    }

    function _expectUnknownKey(address signer) private {
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownSealKey.selector, signer));
    }

    // ------------------------------------------------------------ typed data, from the spec

    function test_Typehashes_MatchTheTypeStrings() public view {
        assertEq(ledger.NOTICE_TYPEHASH(), keccak256(bytes(NOTICE_TYPE)), "NOTICE_TYPEHASH");
        assertEq(ledger.BATCH_TYPEHASH(), keccak256(bytes(BATCH_TYPE)), "BATCH_TYPEHASH");
    }

    function test_Eip712Domain_IsTenderledgerVersion1OnThisChainAndContract() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = ledger.eip712Domain();
        assertEq(uint256(uint8(fields)), 0x0f, "fields: name, version, chainId, verifyingContract");
        assertEq(name, DOMAIN_NAME, "name");
        assertEq(version, DOMAIN_VERSION, "version");
        assertEq(chainId, block.chainid, "chainId");
        assertEq(verifyingContract, address(ledger), "verifyingContract");
        assertEq(salt, bytes32(0), "salt");
        assertEq(extensions.length, 0, "extensions");
    }

    function test_NoticeTypedDataHash_MatchesIndependentComputation() public view {
        INoticeLedger.NoticeInput memory n = tender;
        n.previous = previousOf(releaseIdOf(OCID, "earlier"));
        assertEq(ledger.noticeTypedDataHash(n), noticeHash(n), "noticeTypedDataHash");
    }

    function test_BatchTypedDataHash_MatchesIndependentComputation() public view {
        INoticeLedger.BatchInput memory b = batch(sha256("root"), 1024, "archive 2019");
        assertEq(ledger.batchTypedDataHash(b), batchHash(b), "batchTypedDataHash");
    }

    function testFuzz_NoticeTypedDataHash_MatchesIndependentComputation(
        string calldata ocid,
        string calldata releaseId,
        uint8 stage,
        bytes32 digest,
        bytes32 previous,
        uint64 deadline
    ) public view {
        INoticeLedger.NoticeInput memory n = INoticeLedger.NoticeInput({
            ocid: ocid,
            releaseId: releaseId,
            stage: stage,
            digest: digest,
            previous: previous,
            deadline: deadline
        });
        assertEq(ledger.noticeTypedDataHash(n), noticeHash(n), "noticeTypedDataHash");
    }

    // ------------------------------------------------------------ who may submit

    function test_AnchorNotice_BySealer() public {
        anchorAs(worksPk, tender);
        assertAnchoredNow(tender, worksKey, works);
    }

    function test_AnchorNotice_ByRelayerRecordsTheSealerNotTheRelayer() public {
        relay(worksPk2, tender);
        assertAnchoredNow(tender, worksKey2, works);
    }

    function test_AnchorNotice_RevertWhen_SenderIsNeitherSealerNorRelayer() public {
        bytes memory seal = sealNotice(worksPk, tender);
        // An outsider, a sibling key of the same agency, a key of another agency and
        // governance itself: none of them sealed this notice and none is a relayer.
        address[4] memory senders = [outsider, worksKey2, cityKey, governor];
        for (uint256 i; i < senders.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, senders[i]));
            vm.prank(senders[i]);
            ledger.anchorNotice(tender, seal);
        }
        assertNotAnchored(tender);
    }

    function test_AnchorNotice_RevertWhen_RelayerRoleRevoked() public {
        vm.prank(admin);
        ledger.revokeRole(RELAYER_ROLE, relayer);
        bytes memory seal = sealNotice(worksPk, tender);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, relayer));
        vm.prank(relayer);
        ledger.anchorNotice(tender, seal);
    }

    // ------------------------------------------------------------ who may seal

    function test_AnchorNotice_RevertWhen_SignerUnknown() public {
        bytes memory seal = sealNotice(strangerPk, tender);
        _expectUnknownKey(strangerKey);
        vm.prank(strangerKey);
        ledger.anchorNotice(tender, seal);

        _expectUnknownKey(strangerKey);
        vm.prank(relayer);
        ledger.anchorNotice(tender, seal);
        assertNotAnchored(tender);
    }

    function test_AnchorNotice_RevertWhen_SignerRevoked() public {
        bytes memory seal = sealNotice(worksPk, tender);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);

        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey));
        vm.prank(worksKey);
        ledger.anchorNotice(tender, seal);

        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey));
        vm.prank(relayer);
        ledger.anchorNotice(tender, seal);
        assertNotAnchored(tender);

        // The agency's other key is unaffected.
        anchorAs(worksPk2, tender);
        assertAnchoredNow(tender, worksKey2, works);
    }

    /// @notice Rule 1: a key revoked later leaves what it sealed before valid and unchanged.
    function test_RevokeSealKey_KeepsRecordsSealedBeforeRevocation() public {
        anchorAs(worksPk, tender);
        INoticeLedger.NoticeRecord memory before = ledger.recordByKey(keyOf(tender));
        INoticeLedger.ProcessState memory processBefore = ledger.processOf(ocidHashOf(OCID));

        vm.roll(START_BLOCK + 100);
        vm.warp(START_TIME + 1 days);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);

        assertSameRecord(ledger.recordByKey(keyOf(tender)), before);
        assertSameRecord(ledger.recordByDigest(tender.digest), before);
        assertEq(uint256(before.agency), uint256(works), "agency still resolved");
        (uint32 agency, uint40 addedBlock, uint40 revokedBlock) = ledger.sealKey(worksKey);
        assertEq(uint256(agency), uint256(works), "key agency");
        assertEq(uint256(addedBlock), START_BLOCK, "addedBlock");
        assertEq(uint256(revokedBlock), START_BLOCK + 100, "revokedBlock");
        // The revocation is after the record: an auditor can tell the seal was made while valid.
        assertLt(uint256(before.blockNumber), uint256(revokedBlock), "record predates revocation");
        INoticeLedger.ProcessState memory processAfter = ledger.processOf(ocidHashOf(OCID));
        assertEq(uint256(processAfter.notices), uint256(processBefore.notices), "process untouched");
    }

    // ------------------------------------------------------------ replay across domains

    function test_AnchorNotice_RevertWhen_SealedForAnotherChainId() public {
        bytes32 foreignHash = typedDataHash(noticeStructHash(tender), block.chainid + 1, address(ledger));
        bytes memory seal = sign(worksPk, foreignHash);
        // The ledger hashes with its own chain id, so the seal recovers some other address.
        address recovered = recoverSigner(noticeHash(tender), seal);
        assertNotEq(recovered, worksKey, "recovers another address");
        _expectUnknownKey(recovered);
        vm.prank(relayer);
        ledger.anchorNotice(tender, seal);
        assertNotAnchored(tender);
    }

    function test_AnchorNotice_RevertWhen_ChainIdChangesAfterSealing() public {
        bytes memory seal = sealNotice(worksPk, tender);
        bytes32 hashBefore = ledger.noticeTypedDataHash(tender);

        vm.chainId(block.chainid + 5);
        bytes32 hashAfter = ledger.noticeTypedDataHash(tender);
        assertNotEq(hashAfter, hashBefore, "typed hash follows the chain id");
        assertEq(hashAfter, noticeHash(tender), "and matches the spec on the new chain");

        address recovered = recoverSigner(hashAfter, seal);
        _expectUnknownKey(recovered);
        vm.prank(worksKey);
        ledger.anchorNotice(tender, seal);
        assertNotAnchored(tender);
    }

    function test_AnchorNotice_RevertWhen_SealedForAnotherContract() public {
        // A second ledger where the same key serves the same agency: its seals must still
        // not be accepted here, nor ours there.
        vm.startPrank(admin);
        NoticeLedger other = new NoticeLedger(ADMIN_DELAY, admin);
        other.addSealKey(other.registerAgency(WORKS_NAME), worksKey);
        vm.stopPrank();

        bytes memory sealForOther = sign(worksPk, typedDataHash(noticeStructHash(tender), block.chainid, address(other)));
        address recovered = recoverSigner(noticeHash(tender), sealForOther);
        _expectUnknownKey(recovered);
        vm.prank(worksKey);
        ledger.anchorNotice(tender, sealForOther);

        bytes memory sealForUs = sealNotice(worksPk, tender);
        recovered = recoverSigner(other.noticeTypedDataHash(tender), sealForUs);
        _expectUnknownKey(recovered);
        vm.prank(worksKey);
        other.anchorNotice(tender, sealForUs);

        // Each seal is good where it was made for.
        vm.prank(worksKey);
        other.anchorNotice(tender, sealForOther);
        assertNotAnchored(tender);
    }

    // ------------------------------------------------------------ malformed seals

    function test_AnchorNotice_RevertWhen_SealIsHighS() public {
        bytes memory seal = sealNotice(worksPk, tender);
        bytes memory twin = malleate(seal);
        // The twin is a valid secp256k1 signature by the same key: only the low-s rule stops it.
        assertEq(recoverSigner(noticeHash(tender), twin), worksKey, "twin recovers the sealer");

        vm.expectRevert(INoticeLedger.InvalidSeal.selector);
        vm.prank(worksKey);
        ledger.anchorNotice(tender, twin);
        assertNotAnchored(tender);

        vm.prank(worksKey);
        ledger.anchorNotice(tender, seal);
        assertAnchoredNow(tender, worksKey, works);
    }

    function test_AnchorNotice_RevertWhen_SealLengthIsNot65() public {
        bytes memory seal = sealNotice(worksPk, tender);
        (bytes32 r, bytes32 s, uint8 v) = splitSeal(seal);
        bytes[4] memory bad = [
            bytes(""),
            abi.encodePacked(r, s), // 64 bytes
            abi.encodePacked(r, bytes32(uint256(s) | (uint256(v - 27) << 255))), // EIP-2098 compact
            abi.encodePacked(seal, uint8(0)) // 66 bytes
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(INoticeLedger.InvalidSeal.selector);
            vm.prank(worksKey);
            ledger.anchorNotice(tender, bad[i]);
        }
        assertNotAnchored(tender);
    }

    function test_AnchorNotice_RevertWhen_RecoveryIdIsInvalid() public {
        (bytes32 r, bytes32 s, uint8 v) = splitSeal(sealNotice(worksPk, tender));
        uint8[4] memory badV = [uint8(0), 1, 29, v + 4];
        for (uint256 i; i < badV.length; ++i) {
            vm.expectRevert(INoticeLedger.InvalidSeal.selector);
            vm.prank(worksKey);
            ledger.anchorNotice(tender, abi.encodePacked(r, s, badV[i]));
        }
    }

    function test_AnchorNotice_RevertWhen_SealIsZeroes() public {
        vm.expectRevert(INoticeLedger.InvalidSeal.selector);
        vm.prank(relayer);
        ledger.anchorNotice(tender, new bytes(65));
    }

    // ------------------------------------------------------------ relayer tampering

    /// @notice Whatever sealed field a relayer alters, the seal recovers someone else.
    function test_AnchorNotice_RelayerTamperingChangesTheRecoveredSigner() public {
        bytes memory seal = sealNotice(worksPk, tender);
        INoticeLedger.NoticeInput[6] memory tampered;
        for (uint256 i; i < 6; ++i) {
            tampered[i] = notice(tender.ocid, tender.releaseId, tender.stage, tender.digest, tender.deadline);
        }
        tampered[0].ocid = "ocds-213czf-000-00002";
        tampered[1].releaseId = releaseIdOf(OCID, "tender-v2");
        tampered[2].stage = Stages.TENDER_UPDATE;
        tampered[3].digest = sha256("another release");
        tampered[4].previous = previousOf(releaseIdOf(OCID, "planning"));
        tampered[5].deadline = tender.deadline - 9 days;

        for (uint256 i; i < 6; ++i) {
            address recovered = recoverSigner(noticeHash(tampered[i]), seal);
            assertNotEq(recovered, worksKey, "tampering must change the signer");
            _expectUnknownKey(recovered);
            vm.prank(relayer);
            ledger.anchorNotice(tampered[i], seal);
            assertNotAnchored(tampered[i]);
        }
        vm.prank(relayer);
        ledger.anchorNotice(tender, seal);
        assertAnchoredNow(tender, worksKey, works);
    }

    // ------------------------------------------------------------ fuzz

    /// @notice No key that governance did not register anchors anything, whoever submits.
    function testFuzz_AnchorNotice_RevertWhen_KeyUnregistered(uint256 privateKey, bool viaRelayer) public {
        privateKey = bound(privateKey, 1, SECP256K1_N - 1);
        address signer = vm.addr(privateKey);
        (uint32 agency,,) = ledger.sealKey(signer);
        vm.assume(agency == 0);

        bytes memory seal = sealNotice(privateKey, tender);
        _expectUnknownKey(signer);
        vm.prank(viaRelayer ? relayer : signer);
        ledger.anchorNotice(tender, seal);
        assertNotAnchored(tender);
    }

    /// @notice Flipping any single bit of a valid seal never anchors under the original
    ///         signer: it is refused as malformed or as some unknown key.
    function testFuzz_AnchorNotice_BitFlippedSealNeverAnchors(uint256 bit, bool viaRelayer) public {
        bit = bound(bit, 0, 65 * 8 - 1);
        bytes memory seal = sealNotice(worksPk, tender);
        seal[bit / 8] ^= bytes1(uint8(0x80) >> (bit % 8));

        vm.prank(viaRelayer ? relayer : worksKey);
        try ledger.anchorNotice(tender, seal) {
            revert("a bit-flipped seal was accepted");
        } catch (bytes memory reason) {
            // forge-lint: disable-next-line(unsafe-typecast) keeping the first 4 bytes is the point
            bytes4 selector = bytes4(reason);
            assertTrue(
                selector == INoticeLedger.InvalidSeal.selector || selector == INoticeLedger.UnknownSealKey.selector,
                "refused as malformed or unknown key"
            );
        }
        assertNotAnchored(tender);
    }

    /// @notice A seal made for any other chain id is refused here.
    function testFuzz_AnchorNotice_RevertWhen_SealedForOtherChainId(uint256 chainId) public {
        vm.assume(chainId != block.chainid);
        bytes memory seal = sign(worksPk, typedDataHash(noticeStructHash(tender), chainId, address(ledger)));
        vm.prank(relayer);
        try ledger.anchorNotice(tender, seal) {
            revert("a foreign-chain seal was accepted");
        } catch (bytes memory reason) {
            assertEq(
                reason,
                abi.encodeWithSelector(
                    INoticeLedger.UnknownSealKey.selector, recoverSigner(noticeHash(tender), seal)
                ),
                "UnknownSealKey(recovered)"
            );
        }
        assertNotAnchored(tender);
    }
}
