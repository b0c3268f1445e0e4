"""Verify: nothing leaves that its sources do not support. Deterministic checks
first; an LLM judge may only add checks on top of these."""
