// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Stages
/// @notice Notice stages as stored on the ledger. Values 1-15 follow the OCDS 1.1
///         releaseTag codelist (without `compiled`, which is not a notice); 16 marks an
///         evidence document (a file anchored by the SHA-256 of its raw bytes).
/// @dev The numbering is part of the EIP-712 seal and of stored records: never reorder.
library Stages {
    uint8 internal constant PLANNING = 1;
    uint8 internal constant PLANNING_UPDATE = 2;
    uint8 internal constant TENDER = 3;
    uint8 internal constant TENDER_AMENDMENT = 4;
    uint8 internal constant TENDER_UPDATE = 5;
    uint8 internal constant TENDER_CANCELLATION = 6;
    uint8 internal constant AWARD = 7;
    uint8 internal constant AWARD_UPDATE = 8;
    uint8 internal constant AWARD_CANCELLATION = 9;
    uint8 internal constant CONTRACT = 10;
    uint8 internal constant CONTRACT_UPDATE = 11;
    uint8 internal constant CONTRACT_AMENDMENT = 12;
    uint8 internal constant IMPLEMENTATION = 13;
    uint8 internal constant IMPLEMENTATION_UPDATE = 14;
    uint8 internal constant CONTRACT_TERMINATION = 15;
    uint8 internal constant DOCUMENT = 16;

    /// @notice Whether `stage` is a stage the ledger knows.
    function isKnown(uint8 stage) internal pure returns (bool) {
        return stage >= PLANNING && stage <= DOCUMENT;
    }

    /// @notice tender, tenderAmendment and tenderUpdate: they declare the submission deadline.
    function isTenderStage(uint8 stage) internal pure returns (bool) {
        return stage >= TENDER && stage <= TENDER_UPDATE;
    }

    /// @notice Award, contract and implementation stages: refused before the deadline and
    ///         after a cancellation when the process has a tender on the ledger.
    function isAwardOrContractStage(uint8 stage) internal pure returns (bool) {
        return stage >= AWARD && stage <= CONTRACT_TERMINATION;
    }
}
