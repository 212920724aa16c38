// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title OcidPrefixesTest
/// @notice Rule 2 with reserved prefixes: governance reserves an ocid prefix
///         (`scheme-publisher`, lowercase) for an agency; nobody else then opens a process
///         under it, whatever the case of the ocid; processes opened before the reservation
///         stay with their opener; an ocid under no reserved prefix is bound first come, first
///         bound.
contract OcidPrefixesTest is LedgerTestBase {
    string internal constant PREFIX = "ocds-213czf";
    bytes32 internal constant PREFIX_HASH = keccak256("ocds-213czf");

    function _reserve(uint32 agency, string memory prefix) private {
        vm.prank(governor);
        ledger.reserveOcidPrefix(agency, prefix);
    }

    function _expectBadPrefix(string memory prefix) private {
        vm.expectRevert(INoticeLedger.BadOcidPrefix.selector);
        vm.prank(governor);
        ledger.reserveOcidPrefix(works, prefix);
        assertEq(uint256(ledger.prefixOwner(keccak256(bytes(prefix)))), 0, "nothing reserved");
    }

    /// @dev `privateKey` (of `agency`) tries to open `ocid`; expects OcidPrefixOfOtherAgency.
    function _expectSquatRefused(uint256 privateKey, uint32 agency, string memory ocid, uint8 stage) private {
        INoticeLedger.NoticeInput memory n = notice(ocid, "r1", stage, sha256(bytes(ocid)), 0);
        bytes memory seal = sealNotice(privateKey, n);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.OcidPrefixOfOtherAgency.selector, ocidHashOf(ocid), works, agency)
        );
        vm.prank(relayer);
        ledger.anchorNotice(n, seal);
        assertNotAnchored(n);
        assertEq(uint256(ledger.processOf(ocidHashOf(ocid)).agency), 0, "no process opened");
    }

    // ------------------------------------------------------------ reservation

    function test_ReserveOcidPrefix_RecordsTheOwner() public {
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), 0, "free before");
        _reserve(works, PREFIX);
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), uint256(works), "works owns it");
        // Another prefix, by the admin (who holds GOVERNANCE_ROLE too), for another agency.
        vm.prank(admin);
        ledger.reserveOcidPrefix(city, "ocds-9x8y7z");
        assertEq(uint256(ledger.prefixOwner(keccak256("ocds-9x8y7z"))), uint256(city), "city owns its own");
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), uint256(works), "works keeps its own");
        assertEq(uint256(ledger.prefixOwner(keccak256("OCDS-213CZF"))), 0, "stored by its lowercase text only");
    }

    function test_ReserveOcidPrefix_LengthBoundaries() public {
        _reserve(works, "a-b"); // 3 bytes, the shortest
        string memory longest = string.concat(filled(31, "p"), "-", filled(32, "q")); // 64 bytes
        _reserve(city, longest);
        assertEq(uint256(ledger.prefixOwner(keccak256("a-b"))), uint256(works), "3 bytes");
        assertEq(uint256(ledger.prefixOwner(keccak256(bytes(longest)))), uint256(city), "64 bytes");
        _expectBadPrefix(string.concat(filled(32, "p"), "-", filled(32, "q"))); // 65 bytes
        _expectBadPrefix(string.concat(filled(200, "p"), "-", filled(200, "q")));
    }

    function test_ReserveOcidPrefix_RevertWhen_Malformed() public {
        _expectBadPrefix(""); // empty
        _expectBadPrefix("a-"); // too short (and a trailing hyphen)
        _expectBadPrefix("OCDS-213CZF"); // uppercase
        _expectBadPrefix("ocds-213cZf"); // one uppercase letter
        _expectBadPrefix("Ocds-213czf");
        _expectBadPrefix("ocds213czf"); // no hyphen
        _expectBadPrefix("ocds-213czf-000"); // two hyphens
        _expectBadPrefix("ocds--213czf"); // two hyphens, adjacent
        _expectBadPrefix("-ocds213czf"); // the hyphen is not inner
        _expectBadPrefix("ocds213czf-");
        _expectBadPrefix("---");
    }

    function test_ReserveOcidPrefix_RevertWhen_AgencyUnknown() public {
        uint32[3] memory unknown = [uint32(0), 3, type(uint32).max];
        for (uint256 i; i < unknown.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(INoticeLedger.UnknownAgency.selector, unknown[i]));
            vm.prank(governor);
            ledger.reserveOcidPrefix(unknown[i], PREFIX);
        }
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), 0, "nothing reserved");
    }

    function test_ReserveOcidPrefix_RevertWhen_AlreadyReserved() public {
        _reserve(works, PREFIX);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.OcidPrefixAlreadyReserved.selector, PREFIX_HASH, works));
        vm.prank(governor);
        ledger.reserveOcidPrefix(city, PREFIX);
        // Not even for the same agency again.
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.OcidPrefixAlreadyReserved.selector, PREFIX_HASH, works));
        vm.prank(governor);
        ledger.reserveOcidPrefix(works, PREFIX);
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), uint256(works), "first reservation kept");
    }

    function test_ReserveOcidPrefix_RevertWhen_CallerLacksGovernanceRole() public {
        address[4] memory callers = [outsider, relayer, worksKey, cityKey];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], GOVERNANCE_ROLE
                )
            );
            vm.prank(callers[i]);
            ledger.reserveOcidPrefix(works, PREFIX);
        }
        assertEq(uint256(ledger.prefixOwner(PREFIX_HASH)), 0, "nothing reserved");
    }

    function testFuzz_ReserveOcidPrefix_RevertWhen_CallerLacksGovernanceRole(address caller, string calldata prefix)
        public
    {
        vm.assume(caller != admin && caller != governor && caller != address(vm));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, GOVERNANCE_ROLE)
        );
        vm.prank(caller);
        ledger.reserveOcidPrefix(works, prefix);
    }

    // ------------------------------------------------------------ the prefix an ocid falls under

    function test_OcidPrefixHash_IsTheLowercasedTextUpToTheSecondHyphen() public view {
        assertEq(ledger.ocidPrefixHash("ocds-213czf-000-00001"), PREFIX_HASH, "lowercase ocid");
        assertEq(ledger.ocidPrefixHash("OCDS-213CZF-000-00001"), PREFIX_HASH, "uppercase ocid");
        assertEq(ledger.ocidPrefixHash("oCdS-213cZf-X"), PREFIX_HASH, "mixed case");
        assertEq(ledger.ocidPrefixHash("ocds-213czf-"), PREFIX_HASH, "empty local part");
        assertEq(ledger.ocidPrefixHash("ocds-213czf"), bytes32(0), "one hyphen: no prefix");
        assertEq(ledger.ocidPrefixHash("ocds213czf"), bytes32(0), "no hyphen: no prefix");
        assertEq(ledger.ocidPrefixHash(""), bytes32(0), "empty");
        // Only ASCII letters are lowered; other bytes are kept as they are.
        assertEq(ledger.ocidPrefixHash(unicode"ÖCDS-X-1"), keccak256(bytes(unicode"Öcds-x")), "non-ASCII kept");
    }

    function testFuzz_OcidPrefixHash_IgnoresTheCaseOfAsciiLetters(uint256 seed) public view {
        // A random ocid over a small alphabet with hyphens, and its upper-case twin.
        bytes memory lower = new bytes(1 + seed % 24);
        bytes memory upper = new bytes(lower.length);
        for (uint256 i; i < lower.length; ++i) {
            uint8 c = uint8(uint256(keccak256(abi.encode(seed, i))) % 28);
            lower[i] = c >= 26 ? bytes1("-") : bytes1(uint8(97 + c));
            upper[i] = c >= 26 ? bytes1("-") : bytes1(uint8(65 + c));
        }
        assertEq(ledger.ocidPrefixHash(string(upper)), ledger.ocidPrefixHash(string(lower)), "case-insensitive");
        // And the spec: the text up to the second hyphen, or zero without two hyphens.
        uint256 hyphens;
        uint256 end;
        while (end < lower.length && hyphens < 2) {
            if (lower[end] == "-") ++hyphens;
            ++end;
        }
        if (hyphens < 2) {
            assertEq(ledger.ocidPrefixHash(string(lower)), bytes32(0), "no prefix");
        } else {
            bytes memory head = new bytes(end - 1);
            for (uint256 i; i < head.length; ++i) {
                head[i] = lower[i];
            }
            assertEq(ledger.ocidPrefixHash(string(lower)), keccak256(head), "prefix");
        }
    }

    // ------------------------------------------------------------ squatting

    function test_OpeningUnderAnotherAgencysPrefix_Refused() public {
        _reserve(works, PREFIX);
        _expectSquatRefused(cityPk, city, "ocds-213czf-000-00042", Stages.PLANNING);
        _expectSquatRefused(cityPk, city, "OCDS-213CZF-000-00042", Stages.TENDER);
        _expectSquatRefused(cityPk, city, "Ocds-213CzF-000-00042", Stages.AWARD);
        _expectSquatRefused(cityPk, city, "ocds-213czf-", Stages.DOCUMENT);
        // Every stage, documents included, opens a process and so is held to the prefix.
        for (uint8 stage = Stages.PLANNING; stage <= Stages.DOCUMENT; ++stage) {
            _expectSquatRefused(cityPk, city, string.concat("ocds-213czf-stage-", decimal(stage)), stage);
        }
    }

    function test_OpeningUnderAnotherAgencysPrefix_RefusedInAListToo() public {
        _reserve(works, PREFIX);
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](2);
        bytes[] memory seals = new bytes[](2);
        notices[0] = notice("ocds-9x8y7z-000-1", "r1", Stages.PLANNING, sha256("free"), 0);
        notices[1] = notice("OCDS-213CZF-000-00043", "r1", Stages.PLANNING, sha256("squat"), 0);
        seals[0] = sealNotice(cityPk, notices[0]);
        seals[1] = sealNotice(cityPk, notices[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                INoticeLedger.OcidPrefixOfOtherAgency.selector, ocidHashOf(notices[1].ocid), works, city
            )
        );
        vm.prank(cityKey);
        ledger.anchorNotices(notices, seals);
        assertNotAnchored(notices[0]);
    }

    function test_OwnerMayOpenUnderItsPrefix() public {
        _reserve(works, PREFIX);
        string[3] memory ocids = ["ocds-213czf-000-00042", "OCDS-213CZF-000-00042", "Ocds-213czf-000-00043"];
        for (uint256 i; i < ocids.length; ++i) {
            INoticeLedger.NoticeInput memory n = notice(ocids[i], "tender", Stages.TENDER, sha256(bytes(ocids[i])), 0);
            // Any key of the owner, submitted by itself or by the relayer.
            if (i % 2 == 0) anchorAs(worksPk, n);
            else relay(worksPk2, n);
            assertAnchoredNow(n, i % 2 == 0 ? worksKey : worksKey2, works);
            assertEq(uint256(ledger.processOf(ocidHashOf(ocids[i])).agency), uint256(works), "bound to works");
        }
        // The process, once open, is bound by rule 2 as any other.
        INoticeLedger.NoticeInput memory intrusion = notice(ocids[1], "award", Stages.AWARD, sha256("intrusion"), 0);
        bytes memory seal = sealNotice(cityPk, intrusion);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(ocids[1]), works, city)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(intrusion, seal);
    }

    function test_OcidUnderNoReservedPrefix_IsFirstComeFirstBound() public {
        _reserve(works, PREFIX);
        // Another publisher's prefix, a prefix that only starts like the reserved one, and
        // ocids with fewer than two hyphens fall under no reservation.
        string[3] memory ocids = ["ocds-9x8y7z-000-1", "ocds-213czfx-000-1", "ocds213czf-000"];
        for (uint256 i; i < ocids.length; ++i) {
            INoticeLedger.NoticeInput memory n = notice(ocids[i], "r1", Stages.PLANNING, sha256(bytes(ocids[i])), 0);
            anchorAs(cityPk, n);
            assertEq(uint256(ledger.processOf(ocidHashOf(ocids[i])).agency), uint256(city), "bound to its opener");

            INoticeLedger.NoticeInput memory late = notice(ocids[i], "r2", Stages.PLANNING_UPDATE, keccak256(bytes(ocids[i])), 0);
            bytes memory seal = sealNotice(worksPk, late);
            vm.expectRevert(
                abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(ocids[i]), city, works)
            );
            vm.prank(worksKey);
            ledger.anchorNotice(late, seal);
        }
    }

    function test_ProcessOpenedBeforeTheReservation_StaysWithItsOpener() public {
        string memory ocid = "ocds-213czf-000-00077";
        anchorAs(cityPk, notice(ocid, "planning", Stages.PLANNING, sha256("p77"), 0));
        _reserve(works, PREFIX);

        // The opener continues it ...
        INoticeLedger.NoticeInput memory tender = notice(ocid, "tender", Stages.TENDER, sha256("t77"), 0);
        anchorAs(cityPk, tender);
        assertAnchoredNow(tender, cityKey, city);
        assertEq(uint256(ledger.processOf(ocidHashOf(ocid)).agency), uint256(city), "still city's");

        // ... the prefix owner may not take it over ...
        INoticeLedger.NoticeInput memory award = notice(ocid, "award", Stages.AWARD, sha256("a77"), 0);
        bytes memory seal = sealNotice(worksPk, award);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(ocid), city, works));
        vm.prank(worksKey);
        ledger.anchorNotice(award, seal);

        // ... but the opener opens no new process under the prefix.
        _expectSquatRefused(cityPk, city, "ocds-213czf-000-00078", Stages.PLANNING);
    }

    function test_ReservationForAnAgencyWithoutKeys_StillRefusesOthers() public {
        vm.prank(governor);
        uint32 port = ledger.registerAgency("Port Authority");
        _reserve(port, "ocds-p0rt01");
        string memory ocid = "ocds-p0rt01-2024-1";
        INoticeLedger.NoticeInput memory n = notice(ocid, "r1", Stages.PLANNING, sha256("port"), 0);
        bytes memory seal = sealNotice(worksPk, n);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.OcidPrefixOfOtherAgency.selector, ocidHashOf(ocid), port, works)
        );
        vm.prank(worksKey);
        ledger.anchorNotice(n, seal);
    }
}
