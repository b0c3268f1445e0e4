"""Fetch: polite, bounded, guarded HTTP, and the run that fetches every source."""
