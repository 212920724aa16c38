// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @title TestBase
/// @notice Minimal base for Forge tests: the cheatcode handle, reverting assertions,
///         `bound` for fuzz inputs and named accounts. Forge fails a test when it reverts,
///         so every assertion here reverts (through the cheatcode) on failure.
abstract contract TestBase {
    /// @dev Forge serves cheatcodes at this fixed address.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Printed by `forge test -vv`; used only for informative figures (gas).
    event log_named_uint(string key, uint256 val);

    // ------------------------------------------------------------ assertions

    function assertTrue(bool condition, string memory what) internal pure {
        vm.assertTrue(condition, what);
    }

    function assertFalse(bool condition, string memory what) internal pure {
        vm.assertFalse(condition, what);
    }

    function assertEq(uint256 left, uint256 right, string memory what) internal pure {
        vm.assertEq(left, right, what);
    }

    function assertEq(bytes32 left, bytes32 right, string memory what) internal pure {
        vm.assertEq(left, right, what);
    }

    function assertEq(address left, address right, string memory what) internal pure {
        vm.assertEq(left, right, what);
    }

    function assertEq(bool left, bool right, string memory what) internal pure {
        vm.assertEq(left, right, what);
    }

    function assertEq(bytes memory left, bytes memory right, string memory what) internal pure {
        vm.assertEq(left, right, what);
    }

    function assertEq(string memory left, string memory right, string memory what) internal pure {
        vm.assertEq(bytes(left), bytes(right), what);
    }

    function assertNotEq(bytes32 left, bytes32 right, string memory what) internal pure {
        vm.assertNotEq(left, right, what);
    }

    function assertNotEq(address left, address right, string memory what) internal pure {
        vm.assertNotEq(left, right, what);
    }

    function assertLt(uint256 left, uint256 right, string memory what) internal pure {
        vm.assertLt(left, right, what);
    }

    function assertLe(uint256 left, uint256 right, string memory what) internal pure {
        vm.assertLe(left, right, what);
    }

    function assertGe(uint256 left, uint256 right, string memory what) internal pure {
        vm.assertGe(left, right, what);
    }

    // ------------------------------------------------------------ fuzz helpers

    /// @notice Maps any `x` into [min, max] without discarding runs (unlike vm.assume).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 span = max - min;
        if (span == type(uint256).max) return x;
        return min + (x % (span + 1));
    }

    // ------------------------------------------------------------ accounts

    /// @notice A deterministic, labelled address for a named actor.
    function makeAccount(string memory name) internal returns (address account) {
        account = address(uint160(uint256(keccak256(abi.encodePacked("account:", name)))));
        vm.label(account, name);
    }

    /// @notice A deterministic private key in [1, n-1] for a named actor, and its address.
    function makeKey(string memory name) internal returns (uint256 privateKey, address account) {
        privateKey = bound(uint256(keccak256(abi.encodePacked("key:", name))), 1, SECP256K1_N - 1);
        account = vm.addr(privateKey);
        vm.label(account, name);
    }

    /// @dev Order of the secp256k1 group; s above n/2 is the malleable twin of n - s.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
}
