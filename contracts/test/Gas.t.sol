// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title GasTest
/// @notice Gas of the anchoring calls, measured with gasleft() around the external call
///         (execution gas only: no 21000 base fee, no calldata fee). The figures are printed
///         with `forge test -vv --match-contract GasTest` and are informative; the assertions
///         are loose bounds that hold by design, not measurements pinned to a compiler.
contract GasTest is LedgerTestBase {
    uint64 internal constant DEADLINE = START_TIME + 10 days;

    function _measureAnchor(uint256 privateKey, INoticeLedger.NoticeInput memory n) private returns (uint256 used) {
        bytes memory seal = sealNotice(privateKey, n);
        vm.prank(vm.addr(privateKey));
        used = gasleft();
        ledger.anchorNotice(n, seal);
        used -= gasleft();
    }

    function _documents(uint256 from, uint256 count)
        private
        view
        returns (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals)
    {
        notices = new INoticeLedger.NoticeInput[](count);
        seals = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            notices[i] = notice(string.concat("document-", decimal(1000 + from + i)), Stages.DOCUMENT, 0);
            seals[i] = sealNotice(worksPk, notices[i]);
        }
    }

    function test_Gas_AnchorNotice() public {
        uint256 opening = _measureAnchor(worksPk, notice("tender", Stages.TENDER, DEADLINE));
        emit log_named_uint("anchorNotice, tender opening a process", opening);

        uint256 existing = _measureAnchor(worksPk, notice("amendment", Stages.TENDER_AMENDMENT, DEADLINE + 1 days));
        emit log_named_uint("anchorNotice, amendment of an existing process", existing);

        vm.warp(DEADLINE + 1 days);
        uint256 award = _measureAnchor(worksPk, notice("award", Stages.AWARD, 0));
        emit log_named_uint("anchorNotice, award after the deadline", award);

        // Opening a process writes one more fresh slot than continuing it.
        assertLt(existing, opening, "continuing a process costs less than opening one");
        // Three fresh slots, one seal recovery and one event: far below 200k.
        assertLt(opening, 200_000, "a sealed notice stays a small, bounded write");
    }

    function test_Gas_AnchorNoticeDoesNotGrowWithTheLedger() public {
        anchorAs(worksPk, notice("planning", Stages.PLANNING, 0));
        (INoticeLedger.NoticeInput[] memory early,) = _documents(0, 1);
        uint256 first = _measureAnchor(worksPk, early[0]);

        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _documents(1, 40);
        vm.prank(worksKey);
        ledger.anchorNotices(notices, seals);

        (INoticeLedger.NoticeInput[] memory late,) = _documents(41, 1);
        uint256 later = _measureAnchor(worksPk, late[0]);
        emit log_named_uint("anchorNotice, 2nd notice of a process", first);
        emit log_named_uint("anchorNotice, 43rd notice of a process", later);
        // Mappings only: the 43rd notice costs what the 2nd did (same-length fields).
        assertLe(later > first ? later - first : first - later, 2_000, "cost independent of history");
    }

    function test_Gas_AnchorNoticesOfTen() public {
        anchorAs(worksPk, notice("planning", Stages.PLANNING, 0));
        (INoticeLedger.NoticeInput[] memory notices, bytes[] memory seals) = _documents(0, 10);
        vm.prank(worksKey);
        uint256 used = gasleft();
        ledger.anchorNotices(notices, seals);
        used -= gasleft();
        emit log_named_uint("anchorNotices, 10 documents of an existing process", used);
        emit log_named_uint("anchorNotices, per notice", used / 10);
        assertLt(used, 10 * 200_000, "ten bounded writes");
    }

    function test_Gas_AnchorBatchOf1024() public {
        INoticeLedger.BatchInput memory b = batch(sha256("tree head"), 1024, "works archive 2019");
        bytes memory seal = sealBatch(worksPk, b);
        vm.prank(worksKey);
        uint256 used = gasleft();
        ledger.anchorBatch(b, seal);
        used -= gasleft();
        emit log_named_uint("anchorBatch, 1024 leaves", used);
        emit log_named_uint("anchorBatch, per leaf", used / 1024);
        // One root for the whole archive: under 100 gas per leaf at 1024 leaves.
        assertLt(used, 100 * 1024, "a batch root is cheaper than 100 gas per leaf");
    }
}
