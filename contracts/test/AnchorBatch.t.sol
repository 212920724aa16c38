// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title AnchorBatchTest
/// @notice Rule 6: a bulk archive is anchored as one sealed Merkle root; the root is stored
///         once, with its sealer, agency, block and time, under the same seal rules.
contract AnchorBatchTest is LedgerTestBase {
    INoticeLedger.BatchInput internal archive;

    function setUp() public override {
        super.setUp();
        archive = batch(sha256("tree head of archive 2019"), 1024, "works archive 2019");
    }

    function _anchorBatchAs(uint256 privateKey, address sender, INoticeLedger.BatchInput memory b) private {
        bytes memory seal = sealBatch(privateKey, b);
        vm.prank(sender);
        ledger.anchorBatch(b, seal);
    }

    function _expectRefused(INoticeLedger.BatchInput memory b, bytes memory revertData) private {
        bytes memory seal = sealBatch(worksPk, b);
        vm.expectRevert(revertData);
        vm.prank(worksKey);
        ledger.anchorBatch(b, seal);
    }

    function _assertNoBatch(bytes32 root) private view {
        INoticeLedger.BatchRecord memory r = ledger.batchRecord(root);
        assertEq(r.signer, address(0), "no signer");
        assertEq(uint256(r.agency), 0, "no agency");
        assertEq(uint256(r.blockNumber), 0, "no block");
        assertEq(uint256(r.timestamp), 0, "no timestamp");
    }

    function _batchCount() private view returns (uint256) {
        (, uint64 batches) = ledger.counts();
        return batches;
    }

    // ------------------------------------------------------------ success

    function test_AnchorBatch_StoresRecordAndCounts() public {
        _assertNoBatch(archive.root);
        vm.roll(START_BLOCK + 9);
        vm.warp(START_TIME + 99);
        _anchorBatchAs(worksPk, worksKey, archive);

        INoticeLedger.BatchRecord memory r = ledger.batchRecord(archive.root);
        assertEq(r.signer, worksKey, "signer");
        assertEq(uint256(r.agency), uint256(works), "agency");
        assertEq(uint256(r.blockNumber), START_BLOCK + 9, "blockNumber");
        assertEq(uint256(r.timestamp), START_TIME + 99, "timestamp");
        assertEq(_batchCount(), 1, "one batch");

        _anchorBatchAs(cityPk, relayer, batch(sha256("city archive"), 1, "city archive"));
        assertEq(_batchCount(), 2, "two batches");
        assertEq(ledger.batchRecord(sha256("city archive")).signer, cityKey, "relayed batch signer");
    }

    function test_AnchorBatch_DoesNotTouchNoticesOrProcesses() public {
        // Lifecycle rules do not apply to batch content, and no notice record appears.
        _anchorBatchAs(worksPk, worksKey, archive);
        assertNoRecord(ledger.recordByDigest(archive.root));
        (uint32 agencies,) = ledger.counts();
        assertEq(uint256(agencies), 2, "agencies unchanged");
    }

    function test_AnchorBatch_RecordOutlivesKeyRevocation() public {
        _anchorBatchAs(worksPk, worksKey, archive);
        vm.roll(START_BLOCK + 1);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        INoticeLedger.BatchRecord memory r = ledger.batchRecord(archive.root);
        assertEq(r.signer, worksKey, "signer kept");
        assertEq(uint256(r.agency), uint256(works), "agency kept");
        assertEq(uint256(r.blockNumber), START_BLOCK, "block kept");
    }

    // ------------------------------------------------------------ field rules

    function test_AnchorBatch_RevertWhen_RootAlreadyAnchored() public {
        _anchorBatchAs(worksPk, worksKey, archive);
        INoticeLedger.BatchRecord memory first = ledger.batchRecord(archive.root);
        // Same root under another size, label and agency is still the same root.
        INoticeLedger.BatchInput memory again = batch(archive.root, 7, "relabelled");
        bytes memory seal = sealBatch(cityPk, again);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.BatchAlreadyAnchored.selector, archive.root));
        vm.prank(cityKey);
        ledger.anchorBatch(again, seal);
        assertEq(ledger.batchRecord(archive.root).signer, first.signer, "first record kept");
        assertEq(_batchCount(), 1, "count unchanged");
    }

    function test_AnchorBatch_RevertWhen_RootIsZero() public {
        archive.root = bytes32(0);
        _expectRefused(archive, abi.encodeWithSelector(INoticeLedger.ZeroDigest.selector));
        assertEq(_batchCount(), 0, "no batch");
    }

    function test_AnchorBatch_RevertWhen_SizeIsZero() public {
        archive.size = 0;
        _expectRefused(archive, abi.encodeWithSelector(INoticeLedger.BadNoticeCount.selector, 0));
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RevertWhen_LabelIsEmpty() public {
        archive.label = "";
        _expectRefused(
            archive, abi.encodeWithSelector(INoticeLedger.EmptyField.selector, INoticeLedger.TextField.BatchLabel)
        );
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_LabelLengthBoundary() public {
        uint256 max = ledger.MAX_TEXT_BYTES();
        archive.label = filled(max + 1, "L");
        _expectRefused(
            archive,
            abi.encodeWithSelector(INoticeLedger.FieldTooLong.selector, INoticeLedger.TextField.BatchLabel, max + 1)
        );
        archive.label = filled(max, "L");
        _anchorBatchAs(worksPk, worksKey, archive);
        assertEq(ledger.batchRecord(archive.root).signer, worksKey, "longest label accepted");
    }

    // ------------------------------------------------------------ seal rules

    function test_AnchorBatch_RevertWhen_SignerUnknown() public {
        bytes memory seal = sealBatch(strangerPk, archive);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownSealKey.selector, strangerKey));
        vm.prank(relayer);
        ledger.anchorBatch(archive, seal);
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RevertWhen_SignerRevoked() public {
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        bytes memory seal = sealBatch(worksPk, archive);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey));
        vm.prank(worksKey);
        ledger.anchorBatch(archive, seal);
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RevertWhen_SenderIsNeitherSealerNorRelayer() public {
        bytes memory seal = sealBatch(worksPk, archive);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, outsider));
        vm.prank(outsider);
        ledger.anchorBatch(archive, seal);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnauthorizedSubmitter.selector, cityKey));
        vm.prank(cityKey);
        ledger.anchorBatch(archive, seal);
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RevertWhen_SealIsHighSOrMalformed() public {
        bytes memory seal = sealBatch(worksPk, archive);
        vm.expectRevert(INoticeLedger.InvalidSeal.selector);
        vm.prank(worksKey);
        ledger.anchorBatch(archive, malleate(seal));

        (bytes32 r, bytes32 s,) = splitSeal(seal);
        vm.expectRevert(INoticeLedger.InvalidSeal.selector);
        vm.prank(worksKey);
        ledger.anchorBatch(archive, abi.encodePacked(r, s));
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RevertWhen_SealedForAnotherChainOrContract() public {
        bytes32 structHash = batchStructHash(archive);
        bytes[2] memory foreign = [
            sign(worksPk, typedDataHash(structHash, block.chainid + 1, address(ledger))),
            sign(worksPk, typedDataHash(structHash, block.chainid, address(0xBEEF)))
        ];
        for (uint256 i; i < foreign.length; ++i) {
            address recovered = recoverSigner(batchHash(archive), foreign[i]);
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownSealKey.selector, recovered));
            vm.prank(relayer);
            ledger.anchorBatch(archive, foreign[i]);
        }
        _assertNoBatch(archive.root);
    }

    function test_AnchorBatch_RelayerTamperingChangesTheRecoveredSigner() public {
        bytes memory seal = sealBatch(worksPk, archive);
        INoticeLedger.BatchInput[3] memory tampered = [
            batch(sha256("another tree"), archive.size, archive.label),
            batch(archive.root, archive.size + 1, archive.label),
            batch(archive.root, archive.size, "another label")
        ];
        for (uint256 i; i < tampered.length; ++i) {
            address recovered = recoverSigner(batchHash(tampered[i]), seal);
            assertNotEq(recovered, worksKey, "tampering must change the signer");
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownSealKey.selector, recovered));
            vm.prank(relayer);
            ledger.anchorBatch(tampered[i], seal);
        }
        assertEq(_batchCount(), 0, "nothing anchored");
    }

    /// @notice Any well-formed batch round-trips into its record and the count.
    function testFuzz_AnchorBatch_RoundTrip(bytes32 root, uint32 size, string calldata label, bool viaRelayer)
        public
    {
        vm.assume(root != bytes32(0) && size != 0);
        vm.assume(bytes(label).length > 0 && bytes(label).length <= 256);
        INoticeLedger.BatchInput memory b = batch(root, size, label);
        _anchorBatchAs(cityPk, viaRelayer ? relayer : cityKey, b);
        INoticeLedger.BatchRecord memory r = ledger.batchRecord(root);
        assertEq(r.signer, cityKey, "signer");
        assertEq(uint256(r.agency), uint256(city), "agency");
        assertEq(uint256(r.blockNumber), block.number, "blockNumber");
        assertEq(uint256(r.timestamp), block.timestamp, "timestamp");
        assertEq(_batchCount(), 1, "count");
    }
}
