// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../../src/INoticeLedger.sol";
import {Stages} from "../../src/Stages.sol";
import {Vm} from "./Vm.sol";

/// @title EventReplay
/// @notice Rebuilds notice records and process states from NoticeAnchored logs alone, the
///         way an auditor replays the chain: each log is read with the number and time of the
///         block that holds it (what eth_getLogs and the block header give), nothing else.
library EventReplay {
    /// @notice One NoticeAnchored log, decoded.
    struct Row {
        bytes32 key;
        bytes32 ocidHash;
        bytes32 digest;
        address signer;
        uint32 agency;
        uint8 stage;
        uint48 timestamp;
        uint64 deadline;
        uint64 blockNumber;
    }

    /// @notice Whether `log` is a NoticeAnchored log of `ledger`.
    function isNoticeAnchored(Vm.Log memory log, address ledger) internal pure returns (bool) {
        return log.emitter == ledger && log.topics.length == 4 && log.topics[0] == INoticeLedger.NoticeAnchored.selector;
    }

    /// @notice The row of a NoticeAnchored log, with the sealed notice and seal it carries.
    function decode(Vm.Log memory log, uint256 blockNumber, uint256 timestamp)
        internal
        pure
        returns (Row memory row, INoticeLedger.NoticeInput memory n, bytes memory seal)
    {
        uint32 agency;
        address signer;
        (agency, signer, n, seal) = abi.decode(log.data, (uint32, address, INoticeLedger.NoticeInput, bytes));
        row = Row({
            key: log.topics[1],
            ocidHash: log.topics[2],
            digest: log.topics[3],
            agency: agency,
            signer: signer,
            stage: n.stage,
            // forge-lint: disable-next-line(unsafe-typecast) block times fit 48 bits
            timestamp: uint48(timestamp),
            deadline: n.deadline,
            // forge-lint: disable-next-line(unsafe-typecast) block numbers fit 64 bits
            blockNumber: uint64(blockNumber)
        });
    }

    /// @notice The state of process `ocidHash` after the rows, in log order. Every logged
    ///         notice was accepted, so: the first one names the agency; any tender-stage notice
    ///         or cancellation puts a tender on the ledger; the deadline is the last non-zero
    ///         one a tender-stage notice declared; a cancellation is final; the first award or
    ///         contract stage notice dates the first award.
    function processState(Row[] memory rows, bytes32 ocidHash)
        internal
        pure
        returns (INoticeLedger.ProcessState memory s)
    {
        for (uint256 i; i < rows.length; ++i) {
            Row memory r = rows[i];
            if (r.ocidHash != ocidHash) continue;
            if (s.notices == 0) s.agency = r.agency;
            ++s.notices;
            if (r.stage >= Stages.TENDER && r.stage <= Stages.TENDER_UPDATE) {
                s.hasTender = true;
                if (r.deadline != 0) s.deadline = r.deadline;
            } else if (r.stage == Stages.TENDER_CANCELLATION) {
                s.hasTender = true;
                s.cancelled = true;
            } else if (r.stage >= Stages.AWARD && r.stage <= Stages.CONTRACT_TERMINATION) {
                if (s.firstAwardAt == 0) s.firstAwardAt = r.timestamp;
            }
        }
    }

    /// @notice Whether two process states are equal field by field (a cheap first check).
    function same(INoticeLedger.ProcessState memory a, INoticeLedger.ProcessState memory b)
        internal
        pure
        returns (bool)
    {
        return a.agency == b.agency && a.deadline == b.deadline && a.hasTender == b.hasTender
            && a.cancelled == b.cancelled && a.notices == b.notices && a.firstAwardAt == b.firstAwardAt;
    }
}
