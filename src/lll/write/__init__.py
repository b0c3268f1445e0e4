"""Write: a plan of the issue, a writer that turns it into a ``Draft``, and the
renderers for ``issues/DATE.md`` and ``issues/DATE.json``.

The boundary every writer shares: ``plan_issue`` decides what is told (pure),
a writer decides how (offline by default, a model later), and the verifier
decides whether it may leave.
"""
