// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INoticeLedger} from "../src/INoticeLedger.sol";
import {Stages} from "../src/Stages.sol";
import {LedgerTestBase} from "./utils/LedgerTestBase.sol";

/// @title DocumentsTest
/// @notice Rule 7: an evidence document (stage 16) is scoped to its process. The same file
///         may be anchored for several processes, by several agencies, each with a record of
///         its own found by key; recordByDigest returns no document. Release digests stay
///         unique ledger-wide, and an (ocid, release id) is still anchored once.
contract DocumentsTest is LedgerTestBase {
    string internal constant OTHER = "ocds-9x8y7z-000-00001";
    bytes32 internal constant FILE = sha256("%PDF-1.7 signed contract, both processes");

    INoticeLedger.NoticeInput internal worksDoc;
    INoticeLedger.NoticeInput internal cityDoc;

    function setUp() public override {
        super.setUp();
        worksDoc = notice(OCID, "evidence-1", Stages.DOCUMENT, FILE, 0);
        cityDoc = notice(OTHER, "evidence-1", Stages.DOCUMENT, FILE, 0);
    }

    function test_Document_SameFileForTwoProcessesOfTwoAgencies() public {
        vm.roll(START_BLOCK + 1);
        vm.warp(START_TIME + 10);
        anchorAs(worksPk, worksDoc);
        vm.roll(START_BLOCK + 2);
        vm.warp(START_TIME + 20);
        relay(cityPk, cityDoc);

        assertNotEq(keyOf(worksDoc), keyOf(cityDoc), "two keys");
        assertRecord(
            ledger.recordByKey(keyOf(worksDoc)), FILE, worksKey, works, START_BLOCK + 1, START_TIME + 10, Stages.DOCUMENT
        );
        assertRecord(
            ledger.recordByKey(keyOf(cityDoc)), FILE, cityKey, city, START_BLOCK + 2, START_TIME + 20, Stages.DOCUMENT
        );
        assertNoRecord(ledger.recordByDigest(FILE));
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).agency), uint256(works), "OCID: works");
        assertEq(uint256(ledger.processOf(ocidHashOf(OTHER)).agency), uint256(city), "OTHER: city");

        // The bulk view agrees, in order.
        bytes32[] memory keys = new bytes32[](2);
        (keys[0], keys[1]) = (keyOf(cityDoc), keyOf(worksDoc));
        INoticeLedger.NoticeRecord[] memory records = ledger.recordsByKey(keys);
        assertEq(records[0].signer, cityKey, "first: city");
        assertEq(records[1].signer, worksKey, "second: works");
    }

    function test_Document_SameFileForManyProcessesInOneList() public {
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](4);
        bytes[] memory seals = new bytes[](4);
        for (uint256 i; i < notices.length; ++i) {
            notices[i] = notice(string.concat("ocds-9x8y7z-000-", decimal(i)), "evidence-1", Stages.DOCUMENT, FILE, 0);
            seals[i] = sealNotice(i % 2 == 0 ? cityPk : worksPk, notices[i]);
        }
        vm.prank(relayer);
        assertEq(ledger.anchorNotices(notices, seals), 4, "every process gets the file");
        for (uint256 i; i < notices.length; ++i) {
            assertAnchoredNow(notices[i], i % 2 == 0 ? cityKey : worksKey, i % 2 == 0 ? city : works);
        }
    }

    function test_Document_SameDocumentTwiceInOneProcess_Refused() public {
        anchorAs(worksPk, worksDoc);
        INoticeLedger.NoticeRecord memory first = ledger.recordByKey(keyOf(worksDoc));
        vm.roll(START_BLOCK + 1);

        // Again, by the same key or another key of the agency: the same notice key.
        bytes memory seal = sealNotice(worksPk2, worksDoc);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.NoticeAlreadyAnchored.selector, keyOf(worksDoc)));
        vm.prank(relayer);
        ledger.anchorNotice(worksDoc, seal);
        seal = sealNotice(worksPk, worksDoc);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.NoticeAlreadyAnchored.selector, keyOf(worksDoc)));
        vm.prank(worksKey);
        ledger.anchorNotice(worksDoc, seal);

        // Another file under the same document id: a conflict, as for releases.
        INoticeLedger.NoticeInput memory other = notice(OCID, "evidence-1", Stages.DOCUMENT, sha256("other file"), 0);
        seal = sealNotice(worksPk, other);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.DigestConflict.selector, keyOf(worksDoc), FILE, other.digest)
        );
        vm.prank(worksKey);
        ledger.anchorNotice(other, seal);

        // In a list it is a retry, skipped.
        INoticeLedger.NoticeInput[] memory notices = new INoticeLedger.NoticeInput[](1);
        bytes[] memory seals = new bytes[](1);
        (notices[0], seals[0]) = (worksDoc, sealNotice(worksPk, worksDoc));
        vm.prank(worksKey);
        assertEq(ledger.anchorNotices(notices, seals), 0, "skipped");

        assertSameRecord(ledger.recordByKey(keyOf(worksDoc)), first);
        assertEq(uint256(ledger.processOf(ocidHashOf(OCID)).notices), 1, "one notice");
    }

    function test_Document_DoesNotOpenAnotherAgencysProcess() public {
        // Scoped to its process, a document still belongs to the process's agency (rule 2).
        anchorAs(worksPk, notice("planning", Stages.PLANNING, 0));
        INoticeLedger.NoticeInput memory intrusion = notice(OCID, "evidence-city", Stages.DOCUMENT, FILE, 0);
        bytes memory seal = sealNotice(cityPk, intrusion);
        vm.expectRevert(
            abi.encodeWithSelector(INoticeLedger.ProcessOfOtherAgency.selector, ocidHashOf(OCID), works, city)
        );
        vm.prank(cityKey);
        ledger.anchorNotice(intrusion, seal);
    }

    // ------------------------------------------------------------ release digests stay unique

    function test_ReleaseDigest_StaysUniqueLedgerWide_DocumentsAside() public {
        // A document's file digest does not block a release with that digest ...
        anchorAs(worksPk, worksDoc);
        anchorAs(cityPk, cityDoc);
        INoticeLedger.NoticeInput memory release = notice(OTHER, "planning", Stages.PLANNING, FILE, 0);
        anchorAs(cityPk, release);
        assertAnchoredNow(release, cityKey, city);
        assertSameRecord(ledger.recordByDigest(FILE), ledger.recordByKey(keyOf(release)));

        // ... but that release digest is then unique: not under another key, process or agency.
        INoticeLedger.NoticeInput memory copy = notice(OCID, "planning", Stages.PLANNING, FILE, 0);
        bytes memory seal = sealNotice(worksPk, copy);
        vm.expectRevert(abi.encodeWithSelector(INoticeLedger.DigestAlreadyAnchored.selector, FILE));
        vm.prank(worksKey);
        ledger.anchorNotice(copy, seal);

        // Documents with that digest are still accepted elsewhere, and keep their records.
        INoticeLedger.NoticeInput memory third = notice("ocds-9x8y7z-000-00003", "evidence-1", Stages.DOCUMENT, FILE, 0);
        anchorAs(cityPk, third);
        assertAnchoredNow(third, cityKey, city);
        assertEq(ledger.recordByKey(keyOf(worksDoc)).signer, worksKey, "works' document kept");
        assertEq(ledger.recordByKey(keyOf(cityDoc)).signer, cityKey, "city's document kept");
        assertEq(uint256(ledger.recordByDigest(FILE).stage), uint256(Stages.PLANNING), "by digest: the release");
    }

    // ------------------------------------------------------------ records stay apart

    /// @notice A document's record lives in a slot derived from (key, digest); a release's
    ///         in the slot named by its digest, which its sealer chooses freely. Whatever digest
    ///         a release carries, anchoring a document must not change that release's record
    ///         (records are append-only), and recordByDigest must not return a document.
    function test_Document_NeverOverwritesAReleaseRecord() public {
        bytes32 docSlot = keccak256(abi.encode(keyOf(cityDoc), cityDoc.digest));
        INoticeLedger.NoticeInput memory release = notice(OCID, "planning", Stages.PLANNING, docSlot, 0);
        anchorAs(worksPk, release);
        INoticeLedger.NoticeRecord memory before = ledger.recordByKey(keyOf(release));

        vm.roll(START_BLOCK + 5);
        vm.warp(START_TIME + 50);
        bytes memory seal = sealNotice(cityPk, cityDoc);
        vm.prank(cityKey);
        (bool accepted,) = address(ledger).call(abi.encodeCall(ledger.anchorNotice, (cityDoc, seal)));

        assertSameRecord(ledger.recordByKey(keyOf(release)), before);
        assertSameRecord(ledger.recordByDigest(docSlot), before);
        if (accepted) assertAnchoredNow(cityDoc, cityKey, city);
    }

    /// @notice Any number of processes, any agencies: each keeps the record of its own copy.
    function testFuzz_Document_SameFileInAnyProcess(bytes32 file, uint8 count, uint256 agencies) public {
        vm.assume(file != bytes32(0));
        count = uint8(bound(count, 1, 12));
        for (uint256 i; i < count; ++i) {
            bool byCity = (agencies >> i) & 1 == 1;
            vm.roll(START_BLOCK + i);
            INoticeLedger.NoticeInput memory n =
                notice(string.concat("ocds-fuzz-", decimal(i)), "evidence", Stages.DOCUMENT, file, 0);
            anchorAs(byCity ? cityPk : worksPk, n);
        }
        for (uint256 i; i < count; ++i) {
            bool byCity = (agencies >> i) & 1 == 1;
            INoticeLedger.NoticeInput memory n =
                notice(string.concat("ocds-fuzz-", decimal(i)), "evidence", Stages.DOCUMENT, file, 0);
            assertRecord(
                ledger.recordByKey(keyOf(n)),
                file,
                byCity ? cityKey : worksKey,
                byCity ? city : works,
                START_BLOCK + i,
                START_TIME,
                Stages.DOCUMENT
            );
        }
        assertNoRecord(ledger.recordByDigest(file));
    }
}
