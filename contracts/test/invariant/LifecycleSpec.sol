// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Stages} from "../../src/Stages.sol";

/// @title LifecycleSpec
/// @notice Rule 4 as the specification states it, evaluated over the log of the notices a
///         process accepted, in order. It shares no code and no state layout with the
///         contract: it recomputes everything from the log each time.
///
///         - The deadline in force is the one the tender declared, as moved by later
///           tender-stage notices (tender, tenderAmendment, tenderUpdate): the last non-zero
///           deadline such a notice declared; zero while none did.
///         - A tender is on the ledger once any tender-stage notice or a cancellation is.
///         - With a tender on the ledger, no award or contract stage notice comes before the
///           deadline in force at its time, nor after a cancellation.
///         - No award or contract is ever older than the deadline in force.
///         - A deadline in force is moved only before it has passed, and never to a time at or
///           before the moving notice's block time.
///         - No tender follows a tenderAmendment or tenderUpdate.
///         - A notice with a non-zero `previous` names (keccak256 of its release id) a release
///           accepted earlier in the same process.
///         - Every notice comes from the agency of the first one.
library LifecycleSpec {
    /// @notice An accepted notice, as its process's log keeps it.
    struct Entry {
        bytes32 previous;
        bytes32 releaseHash; // keccak256(bytes(releaseId))
        uint8 stage;
        uint64 deadline; // declared (whatever the stage)
        uint32 agency;
        uint48 timestamp; // block time of acceptance
    }

    /// @notice What the log says about the process after its last entry.
    struct State {
        uint32 agency;
        uint32 notices;
        bool hasTender;
        bool cancelled;
        bool amended;
        uint64 deadline;
        uint48 firstAwardAt;
    }

    function isTenderStage(uint8 stage) internal pure returns (bool) {
        return stage == Stages.TENDER || stage == Stages.TENDER_AMENDMENT || stage == Stages.TENDER_UPDATE;
    }

    function isAwardOrContract(uint8 stage) internal pure returns (bool) {
        return stage >= Stages.AWARD && stage <= Stages.CONTRACT_TERMINATION;
    }

    /// @notice The state after the first `count` entries of `log`, and the first rule an
    ///         entry broke ("" when none did).
    function replay(Entry[] memory log, uint256 count) internal pure returns (State memory s, string memory broken) {
        for (uint256 i; i < count; ++i) {
            string memory why = check(s, log, i);
            if (bytes(broken).length == 0 && bytes(why).length != 0) {
                broken = string.concat(why, " (notice ", _decimal(i + 1), " of its process)");
            }
            step(s, log[i]);
            // forge-lint: disable-next-line(block-timestamp) rule 4 is about time
            if (bytes(broken).length == 0 && s.firstAwardAt != 0 && s.deadline > s.firstAwardAt) {
                broken = string.concat("an award or contract older than the deadline in force (notice ", _decimal(i + 1), ")");
            }
        }
    }

    /// @notice The rule entry `i` breaks against the state `s` of the entries before it, or "".
    function check(State memory s, Entry[] memory log, uint256 i) internal pure returns (string memory) {
        Entry memory e = log[i];
        if (s.notices != 0 && e.agency != s.agency) return "rule 2: a notice from another agency";
        if (e.previous != 0 && !acceptedBefore(log, i, e.previous)) {
            return "previous names no release accepted earlier in the process";
        }
        if (isTenderStage(e.stage)) {
            if (e.stage == Stages.TENDER && s.amended) return "a tender after an amendment or update";
            if (movesDeadline(s, e.deadline)) {
                if (e.timestamp >= s.deadline) return "a deadline moved after it had passed";
                if (e.deadline <= e.timestamp) return "a deadline moved to or before its block time";
            }
        } else if (isAwardOrContract(e.stage) && s.hasTender) {
            if (s.cancelled) return "an award or contract after a cancellation";
            if (e.timestamp < s.deadline) return "an award or contract before the deadline in force";
        }
        return "";
    }

    /// @notice Whether declaring `declared` moves the deadline in force of `s`.
    function movesDeadline(State memory s, uint64 declared) internal pure returns (bool) {
        return s.deadline != 0 && declared != 0 && declared != s.deadline;
    }

    /// @notice Whether a release with id hash `releaseHash` is among the first `count` entries.
    function acceptedBefore(Entry[] memory log, uint256 count, bytes32 releaseHash) internal pure returns (bool) {
        for (uint256 j; j < count; ++j) {
            if (log[j].releaseHash == releaseHash) return true;
        }
        return false;
    }

    function step(State memory s, Entry memory e) internal pure {
        if (s.notices == 0) s.agency = e.agency;
        ++s.notices;
        if (isTenderStage(e.stage)) {
            s.hasTender = true;
            if (e.deadline != 0) s.deadline = e.deadline;
            if (e.stage != Stages.TENDER) s.amended = true;
        } else if (e.stage == Stages.TENDER_CANCELLATION) {
            s.hasTender = true;
            s.cancelled = true;
        } else if (isAwardOrContract(e.stage) && s.firstAwardAt == 0) {
            s.firstAwardAt = e.timestamp;
        }
    }

    function _decimal(uint256 value) private pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            ++digits;
        }
        bytes memory out = new bytes(digits);
        for (; value != 0; value /= 10) {
            out[--digits] = bytes1(uint8(48 + value % 10));
        }
        return string(out);
    }
}
