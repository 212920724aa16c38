// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TestBase} from "./TestBase.sol";

/// @title InvariantBase
/// @notice The view functions Forge's invariant runner reads to decide which contracts
///         and which of their functions it may call. Only handlers are targeted, so the
///         fuzzer drives the ledger through actions that keep ghost state in step.
abstract contract InvariantBase is TestBase {
    /// @dev Layout Forge expects from `targetSelectors()`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;

    /// @notice Lets the fuzzer call `selectors` of `target` (and nothing else of it).
    function targetContract(address target, bytes4[] memory selectors) internal {
        _targetedContracts.push(target);
        _targetedSelectors.push(FuzzSelector({addr: target, selectors: selectors}));
    }

    /// @notice Read by Forge: contracts the invariant fuzzer calls.
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @notice Read by Forge: the functions of those contracts it may call.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }
}
