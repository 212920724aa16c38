/** The parts of NoticeLedger's ABI the page reads, written out here so the page trusts no server for them. */
import { parseAbi } from "viem";

export const ledgerAbi = parseAbi([
  "struct NoticeRecord { bytes32 digest; address signer; uint32 agency; uint40 blockNumber; uint48 timestamp; uint8 stage; }",
  "struct BatchRecord { address signer; uint32 agency; uint40 blockNumber; uint48 timestamp; }",
  "struct NoticeInput { string ocid; string releaseId; uint8 stage; bytes32 digest; bytes32 previous; uint64 deadline; }",
  "function recordsByKey(bytes32[] keys) view returns (NoticeRecord[] records)",
  "function batchRecord(bytes32 root) view returns (BatchRecord record)",
  "event NoticeAnchored(bytes32 indexed key, bytes32 indexed ocidHash, bytes32 indexed digest, uint32 agency, address signer, NoticeInput notice, bytes seal)",
  "event BatchAnchored(bytes32 indexed root, uint32 indexed agency, address signer, uint32 size, string label, bytes seal)",
  "event AgencyRegistered(uint32 indexed agency, string name)",
  "event SealKeyAdded(uint32 indexed agency, address indexed key)",
  "event SealKeyRevoked(uint32 indexed agency, address indexed key)",
  "event OcidPrefixReserved(uint32 indexed agency, bytes32 indexed prefixHash, string prefix)",
]);
