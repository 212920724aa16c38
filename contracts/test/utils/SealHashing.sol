// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../../src/INoticeLedger.sol";

/// @title SealHashing
/// @notice EIP-712 hashing of notices and batches as an off-chain agency signer does it,
///         written from the type strings so tests check the contract instead of reusing it.
library SealHashing {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string internal constant NOTICE_TYPE =
        "Notice(string ocid,string releaseId,uint8 stage,bytes32 digest,bytes32 previous,uint64 deadline)";
    string internal constant BATCH_TYPE = "Batch(bytes32 root,uint32 size,string label)";
    string internal constant DOMAIN_NAME = "tenderledger";
    string internal constant DOMAIN_VERSION = "1";

    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256(bytes(DOMAIN_NAME)),
                keccak256(bytes(DOMAIN_VERSION)),
                chainId,
                verifyingContract
            )
        );
    }

    function noticeStructHash(INoticeLedger.NoticeInput memory n) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(bytes(NOTICE_TYPE)),
                keccak256(bytes(n.ocid)),
                keccak256(bytes(n.releaseId)),
                uint256(n.stage),
                n.digest,
                n.previous,
                uint256(n.deadline)
            )
        );
    }

    function batchStructHash(INoticeLedger.BatchInput memory b) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(BATCH_TYPE)), b.root, uint256(b.size), keccak256(bytes(b.label))));
    }

    /// @notice keccak256("\x19\x01" || domainSeparator || structHash).
    function typedDataHash(bytes32 structHash, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(chainId, verifyingContract), structHash));
    }
}
