"""What the project says to people: the meaning of each ledger refusal, in one table.

The chain layer decodes a refusal into its name and arguments; the wording that tells
an agency what it means and what to do lives here, and every error, command output,
API problem document and page takes it from here.
"""

from __future__ import annotations

from typing import Final

# What each refusal means for the person who sent the notice.
ADVICE: Final[dict[str, str]] = {
    "ZeroDigest": "the digest is zero: nothing was computed",
    "EmptyField": "the ocid, release id, agency name or batch label is empty",
    "FieldTooLong": "a text field is longer than the ledger accepts (256 bytes)",
    "UnknownStage": "the stage code is not one the ledger knows",
    "InvalidSeal": "the seal is malformed or malleable (high s)",
    "UnknownSealKey": "the seal was not made by a registered agency key (wrong signer, chain or contract)",
    "RevokedSealKey": "the agency key that sealed this notice has been revoked",
    "UnauthorizedSubmitter": "the sending account is neither the sealing key nor a registered relayer",
    "NoticeAlreadyAnchored": "this exact notice is already on the ledger",
    "DigestConflict": "this (ocid, release id) is already anchored with other content: OCDS releases are "
    "immutable, publish a new release id instead",
    "DigestAlreadyAnchored": "the same content is already anchored under another (ocid, release id)",
    "ProcessOfOtherAgency": "the process belongs to another agency",
    "DeadlineNotPassed": "the tender's submission deadline has not passed yet",
    "DeadlinePassed": "the submission deadline has already passed and cannot be moved",
    "ProcessCancelled": "the tender was cancelled",
    "DeadlineAfterAward": "the deadline declared falls after an award or contract already on the ledger",
    "BatchAlreadyAnchored": "this batch root is already on the ledger",
    "BadNoticeCount": "the number of notices in the call is out of range",
    "LengthMismatch": "notices and seals differ in number",
    "AgencyAlreadyRegistered": "an agency with this name is already registered",
    "UnknownAgency": "no agency has this id",
    "SealKeyAlreadyRegistered": "this key is already (or was once) a seal key",
    "ZeroAddress": "the zero address cannot be a seal key",
    "OcidPrefixOfOtherAgency": "the ocid falls under a prefix reserved for another agency: publish "
    "under your own prefix",
    "OcidPrefixAlreadyReserved": "this ocid prefix is already reserved",
    "BadOcidPrefix": "an ocid prefix reads scheme-publisher, lowercase, e.g. ocds-213czf",
    "PreviousNotAnchored": "the release this notice amends (amendsReleaseID) is not on the ledger in this "
    "process: anchor it first",
    "TenderAfterAmendment": "a tender notice cannot follow an amendment of the same process",
    "DeadlineInPast": "a deadline can only be moved to a time after the current block",
    "AccessControlUnauthorizedAccount": "the sending account lacks the role this needs",
}


def refusal_advice(reason: str | None, default: str = "") -> str:
    """What the ledger refusal ``reason`` means for the sender (``default`` for an unknown one)."""
    return ADVICE.get(reason or "", default)
