"""LLL — Large Language Letters.

The pipeline, one package per stage::

    sources → fetch → parse → store → stories → write → verify → publish

Every command of the ``lll`` CLI builds a library object from these packages and
calls one method on it; the same calls serve the tests.
"""

__version__ = "0.1.0"
