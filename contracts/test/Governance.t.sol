// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IAccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {NoticeLedger} from "../src/NoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title GovernanceTest
/// @notice Rule 1: only governance registers agencies and adds or revokes seal keys; the
///         default admin changes hands only in two steps, after a delay.
contract GovernanceTest is LedgerTestBase {
    function _unauthorized(address account, bytes32 role) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ------------------------------------------------------------ deployment

    function test_Constructor_GivesAdminTheDefaultAdminAndGovernanceRoles() public view {
        assertEq(ledger.defaultAdmin(), admin, "defaultAdmin");
        assertTrue(ledger.hasRole(DEFAULT_ADMIN_ROLE, admin), "admin holds DEFAULT_ADMIN_ROLE");
        assertTrue(ledger.hasRole(GOVERNANCE_ROLE, admin), "admin holds GOVERNANCE_ROLE");
        assertFalse(ledger.hasRole(RELAYER_ROLE, admin), "admin is not a relayer");
        assertEq(uint256(ledger.defaultAdminDelay()), ADMIN_DELAY, "defaultAdminDelay");
        assertEq(ledger.getRoleAdmin(GOVERNANCE_ROLE), DEFAULT_ADMIN_ROLE, "governance is administered by admin");
        assertEq(ledger.getRoleAdmin(RELAYER_ROLE), DEFAULT_ADMIN_ROLE, "relayers are administered by admin");
        assertEq(GOVERNANCE_ROLE, keccak256("GOVERNANCE_ROLE"), "GOVERNANCE_ROLE id");
        assertEq(RELAYER_ROLE, keccak256("RELAYER_ROLE"), "RELAYER_ROLE id");
    }

    function test_Constructor_RevertWhen_AdminIsZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new NoticeLedger(ADMIN_DELAY, address(0));
    }

    // ------------------------------------------------------------ registerAgency

    function test_RegisterAgency_AssignsSequentialIds() public {
        assertEq(uint256(works), 1, "first agency id");
        assertEq(uint256(city), 2, "second agency id");
        vm.prank(governor);
        uint32 third = ledger.registerAgency("Port Authority");
        assertEq(uint256(third), 3, "third agency id");
        assertEq(uint256(ledger.agencyOf("Port Authority")), 3, "agencyOf(new name)");
        assertEq(uint256(ledger.agencyOf(WORKS_NAME)), uint256(works), "agencyOf(works)");
        (uint32 agencies,) = ledger.counts();
        assertEq(uint256(agencies), 3, "agency count");
    }

    function test_RegisterAgency_ByAdminWhoHoldsGovernance() public {
        vm.prank(admin);
        assertEq(uint256(ledger.registerAgency("Port Authority")), 3, "admin registers as governance");
    }

    function test_RegisterAgency_RevertWhen_CallerLacksGovernanceRole() public {
        address[4] memory callers = [relayer, worksKey, outsider, address(ledger)];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(_unauthorized(callers[i], GOVERNANCE_ROLE));
            vm.prank(callers[i]);
            ledger.registerAgency("Port Authority");
        }
        assertEq(uint256(ledger.agencyOf("Port Authority")), 0, "nothing registered");
    }

    function test_RegisterAgency_RevertWhen_NameTaken() public {
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.AgencyAlreadyRegistered.selector, city));
        vm.prank(governor);
        ledger.registerAgency(CITY_NAME);
    }

    function test_RegisterAgency_NameIsCaseSensitiveBytes() public {
        // Names are compared as bytes; normalising them is governance's job, off chain.
        vm.prank(governor);
        assertEq(uint256(ledger.registerAgency("city of riverton")), 3, "different bytes, new agency");
    }

    function test_RegisterAgency_RevertWhen_NameEmpty() public {
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.EmptyField.selector, INoticeLedger.TextField.AgencyName)
        );
        vm.prank(governor);
        ledger.registerAgency("");
    }

    function test_RegisterAgency_NameLengthBoundary() public {
        uint256 max = ledger.MAX_TEXT_BYTES();
        vm.prank(governor);
        ledger.registerAgency(filled(max, "a"));

        vm.expectRevert(
            abi.encodeWithSelector(
                INoticeLedger.FieldTooLong.selector, INoticeLedger.TextField.AgencyName, max + 1
            )
        );
        vm.prank(governor);
        ledger.registerAgency(filled(max + 1, "b"));
    }

    // ------------------------------------------------------------ addSealKey

    function test_AddSealKey_RecordsAgencyAndBlock() public {
        address fresh = makeAccount("fresh key");
        vm.roll(START_BLOCK + 7);
        vm.prank(governor);
        ledger.addSealKey(city, fresh);
        (uint32 agency, uint40 addedBlock, uint40 revokedBlock) = ledger.sealKey(fresh);
        assertEq(uint256(agency), uint256(city), "agency");
        assertEq(uint256(addedBlock), START_BLOCK + 7, "addedBlock");
        assertEq(uint256(revokedBlock), 0, "active");
    }

    function test_AddSealKey_RevertWhen_CallerLacksGovernanceRole() public {
        address fresh = makeAccount("fresh key");
        address[3] memory callers = [relayer, cityKey, outsider];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(_unauthorized(callers[i], GOVERNANCE_ROLE));
            vm.prank(callers[i]);
            ledger.addSealKey(city, fresh);
        }
        (uint32 agency,,) = ledger.sealKey(fresh);
        assertEq(uint256(agency), 0, "key not added");
    }

    function test_AddSealKey_RevertWhen_AgencyUnknown() public {
        address fresh = makeAccount("fresh key");
        uint32[3] memory unknown = [uint32(0), 3, type(uint32).max];
        for (uint256 i; i < unknown.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownAgency.selector, unknown[i]));
            vm.prank(governor);
            ledger.addSealKey(unknown[i], fresh);
        }
    }

    function test_AddSealKey_RevertWhen_KeyIsZeroAddress() public {
        vm.expectRevert(INoticeLedger.ZeroAddress.selector);
        vm.prank(governor);
        ledger.addSealKey(works, address(0));
    }

    function test_AddSealKey_RevertWhen_KeyAlreadyServesAnAgency() public {
        // Same agency again, and another agency: a key serves one agency, once.
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.SealKeyAlreadyRegistered.selector, worksKey, works));
        vm.prank(governor);
        ledger.addSealKey(works, worksKey);

        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.SealKeyAlreadyRegistered.selector, worksKey, works));
        vm.prank(governor);
        ledger.addSealKey(city, worksKey);
    }

    function test_AddSealKey_RevertWhen_KeyWasRevoked() public {
        vm.startPrank(governor);
        ledger.revokeSealKey(cityKey);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.SealKeyAlreadyRegistered.selector, cityKey, city));
        ledger.addSealKey(city, cityKey);
        vm.stopPrank();
        (,, uint40 revokedBlock) = ledger.sealKey(cityKey);
        assertEq(uint256(revokedBlock), block.number, "still revoked");
    }

    // ------------------------------------------------------------ revokeSealKey

    function test_RevokeSealKey_RecordsRevocationBlock() public {
        vm.roll(START_BLOCK + 50);
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        (uint32 agency, uint40 addedBlock, uint40 revokedBlock) = ledger.sealKey(worksKey);
        assertEq(uint256(agency), uint256(works), "agency kept");
        assertEq(uint256(addedBlock), START_BLOCK, "addedBlock kept");
        assertEq(uint256(revokedBlock), START_BLOCK + 50, "revokedBlock");
        (,, uint40 otherRevoked) = ledger.sealKey(worksKey2);
        assertEq(uint256(otherRevoked), 0, "sibling key untouched");
    }

    function test_RevokeSealKey_RevertWhen_CallerLacksGovernanceRole() public {
        address[3] memory callers = [relayer, worksKey, outsider];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(_unauthorized(callers[i], GOVERNANCE_ROLE));
            vm.prank(callers[i]);
            ledger.revokeSealKey(worksKey);
        }
        (,, uint40 revokedBlock) = ledger.sealKey(worksKey);
        assertEq(uint256(revokedBlock), 0, "still active");
    }

    function test_RevokeSealKey_RevertWhen_KeyUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownSealKey.selector, strangerKey));
        vm.prank(governor);
        ledger.revokeSealKey(strangerKey);
    }

    function test_RevokeSealKey_RevertWhen_AlreadyRevoked() public {
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        vm.roll(START_BLOCK + 1);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey));
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        (,, uint40 revokedBlock) = ledger.sealKey(worksKey);
        assertEq(uint256(revokedBlock), START_BLOCK, "first revocation block kept");
    }

    function test_RevokedKey_CannotAnchor() public {
        vm.prank(governor);
        ledger.revokeSealKey(worksKey);
        INoticeLedger.NoticeInput memory n = notice("tender", Stages.TENDER, 0);
        bytes memory seal = sealNotice(worksPk, n);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.RevokedSealKey.selector, worksKey));
        vm.prank(worksKey);
        ledger.anchorNotice(n, seal);
        assertNotAnchored(n);
    }

    // ------------------------------------------------------------ role management

    function test_GovernanceRole_FollowsGrantAndRevoke() public {
        address second = makeAccount("second governor");
        vm.prank(admin);
        ledger.grantRole(GOVERNANCE_ROLE, second);
        vm.prank(second);
        ledger.registerAgency("Port Authority");

        vm.prank(admin);
        ledger.revokeRole(GOVERNANCE_ROLE, second);
        vm.expectRevert(_unauthorized(second, GOVERNANCE_ROLE));
        vm.prank(second);
        ledger.registerAgency("Harbour Authority");
    }

    function test_GrantRole_RevertWhen_CallerIsNotDefaultAdmin() public {
        // Governance manages agencies, not roles: it cannot make itself relayer.
        vm.expectRevert(_unauthorized(governor, DEFAULT_ADMIN_ROLE));
        vm.prank(governor);
        ledger.grantRole(RELAYER_ROLE, governor);

        vm.expectRevert(_unauthorized(relayer, DEFAULT_ADMIN_ROLE));
        vm.prank(relayer);
        ledger.grantRole(GOVERNANCE_ROLE, relayer);
        assertFalse(ledger.hasRole(GOVERNANCE_ROLE, relayer), "relayer did not become governance");
    }

    function test_DefaultAdminRole_CannotBeGrantedOrRevokedDirectly() public {
        address newAdmin = makeAccount("new admin");
        vm.startPrank(admin);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        ledger.grantRole(DEFAULT_ADMIN_ROLE, newAdmin);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        ledger.revokeRole(DEFAULT_ADMIN_ROLE, admin);
        vm.stopPrank();
        assertFalse(ledger.hasRole(DEFAULT_ADMIN_ROLE, newAdmin), "not granted");
        assertEq(ledger.defaultAdmin(), admin, "admin unchanged");
    }

    function test_DefaultAdminTransfer_IsTwoStepAfterDelay() public {
        address newAdmin = makeAccount("new admin");
        vm.prank(admin);
        ledger.beginDefaultAdminTransfer(newAdmin);
        uint256 schedule = START_TIME + ADMIN_DELAY;
        (address pending, uint48 pendingSchedule) = ledger.pendingDefaultAdmin();
        assertEq(pending, newAdmin, "pending admin");
        assertEq(uint256(pendingSchedule), schedule, "schedule = now + delay");

        // Only the nominee can accept ...
        vm.warp(schedule + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, outsider)
        );
        vm.prank(outsider);
        ledger.acceptDefaultAdminTransfer();

        // ... and only once the delay has fully passed.
        vm.warp(schedule);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(newAdmin);
        ledger.acceptDefaultAdminTransfer();
        assertEq(ledger.defaultAdmin(), admin, "still the old admin");

        vm.warp(schedule + 1);
        vm.prank(newAdmin);
        ledger.acceptDefaultAdminTransfer();
        assertEq(ledger.defaultAdmin(), newAdmin, "new admin");
        assertTrue(ledger.hasRole(DEFAULT_ADMIN_ROLE, newAdmin), "new admin holds the role");
        assertFalse(ledger.hasRole(DEFAULT_ADMIN_ROLE, admin), "old admin lost the role");

        // The new admin manages roles; the old one no longer can.
        vm.prank(newAdmin);
        ledger.revokeRole(GOVERNANCE_ROLE, admin);
        vm.expectRevert(_unauthorized(admin, DEFAULT_ADMIN_ROLE));
        vm.prank(admin);
        ledger.grantRole(GOVERNANCE_ROLE, admin);
        assertFalse(ledger.hasRole(GOVERNANCE_ROLE, admin), "old admin's governance revoked");
    }

    function test_BeginDefaultAdminTransfer_RevertWhen_CallerIsNotDefaultAdmin() public {
        vm.expectRevert(_unauthorized(governor, DEFAULT_ADMIN_ROLE));
        vm.prank(governor);
        ledger.beginDefaultAdminTransfer(governor);
        (address pending,) = ledger.pendingDefaultAdmin();
        assertEq(pending, address(0), "no transfer pending");
    }

    // ------------------------------------------------------------ fuzz

    /// @notice Any sender without GOVERNANCE_ROLE is refused by every governance function,
    ///         and the agency and key registries stay as they were.
    function testFuzz_Governance_RevertWhen_SenderLacksRole(address sender, uint32 agency, address key) public {
        vm.assume(sender != admin && sender != governor && sender != address(vm));
        vm.assume(key != address(0));
        uint256 keyAgencyBefore;
        (uint32 keyAgency,,) = ledger.sealKey(key);
        keyAgencyBefore = keyAgency;

        vm.expectRevert(_unauthorized(sender, GOVERNANCE_ROLE));
        vm.prank(sender);
        ledger.registerAgency("Port Authority");

        vm.expectRevert(_unauthorized(sender, GOVERNANCE_ROLE));
        vm.prank(sender);
        ledger.addSealKey(agency, key);

        vm.expectRevert(_unauthorized(sender, GOVERNANCE_ROLE));
        vm.prank(sender);
        ledger.revokeSealKey(worksKey);

        (uint32 agencies,) = ledger.counts();
        assertEq(uint256(agencies), 2, "agency count unchanged");
        (keyAgency,,) = ledger.sealKey(key);
        assertEq(uint256(keyAgency), keyAgencyBefore, "key registry unchanged");
        (,, uint40 revokedBlock) = ledger.sealKey(worksKey);
        assertEq(uint256(revokedBlock), 0, "works key still active");
    }

    /// @notice Any sender other than the default admin cannot hand out roles or the admin seat.
    function testFuzz_RoleManagement_RevertWhen_SenderIsNotDefaultAdmin(address sender, bool relayerRole) public {
        vm.assume(sender != admin && sender != address(vm));
        bytes32 role = relayerRole ? RELAYER_ROLE : GOVERNANCE_ROLE;

        vm.expectRevert(_unauthorized(sender, DEFAULT_ADMIN_ROLE));
        vm.prank(sender);
        ledger.grantRole(role, sender);

        vm.expectRevert(_unauthorized(sender, DEFAULT_ADMIN_ROLE));
        vm.prank(sender);
        ledger.beginDefaultAdminTransfer(sender);

        assertEq(ledger.hasRole(role, sender), sender == governor && !relayerRole || sender == relayer && relayerRole,
            "roles unchanged");
        assertEq(ledger.defaultAdmin(), admin, "admin unchanged");
    }
}
