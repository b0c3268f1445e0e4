"""Characters XML 1.0 forbids (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF).

A feed can carry them (``&#0;`` in a title, a raw control byte); one of them in ``feed.xml``
makes the whole document ill-formed for every reader. They are dropped where text enters LLL
(the feed parser) and again where XML leaves it (the archive's feeds).
"""

from __future__ import annotations

import re

_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def strip_xml_illegal(text: str) -> str:
    """``text`` without the characters XML 1.0 does not allow."""
    return _ILLEGAL.sub("", text) if text else text


__all__ = ["strip_xml_illegal"]
