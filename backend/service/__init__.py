"""Anchor and verify: orchestration of core, chain and store."""
