"""Canonical URLs: one spelling per page, so the same link from two feeds is one link."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader; they never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "ref", "ref_src", "ref_url", "source", "cmpid", "s_cid", "_hsenc", "_hsmi",
        "mkt_tok", "spm", "utm", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid",
    }
)
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "__hs", "_ga")
DEFAULT_PORTS = {"http": "80", "https": "443"}
# The common spelling that needs no work: lower-case http(s), a plain lower-case host (no
# user, no port, no "www."), a path of characters that need no quoting, no query, no
# fragment. ``canonical_url`` only drops its trailing slash; ``urljoin`` gives it back as it
# is. (tests/test_url_shortcuts.py checks the shortcut against the general code.)
PLAIN_URL = re.compile(r"(https?)://((?!www\.)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(/[A-Za-z0-9_/:@!$&'()*+,=.~-]*)?")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str, *, keep_fragment: bool = False) -> str:
    """Normalise a URL: lower-case scheme and host, no default port, no fragment
    (unless ``keep_fragment``: changelogs give each entry its own), no tracking
    parameters, sorted query, no trailing slash on a non-root path.

    Non-HTTP strings (``tag:`` URIs, bare ids) are returned stripped but unchanged.
    """
    return _canonical(url or "", keep_fragment)


# A feed names each link several times (identity, canonical URL, content hash, links) and
# names it again on every fetch; a pure function over strings, so remember recent answers.
@lru_cache(maxsize=1 << 16)
def _canonical(url: str, keep_fragment: bool) -> str:
    raw = url.strip()
    plain = PLAIN_URL.fullmatch(raw)
    if plain:
        path = plain.group(3) or ""
        return f"{plain.group(1)}://{plain.group(2)}{path.rstrip('/') if path not in ('', '/') else ''}"
    return _canonical_general(raw, keep_fragment)


def _canonical_general(raw: str, keep_fragment: bool) -> str:
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. "http://[broken/1": keep it as written, it is still an identity
        return raw
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.netloc:
        return raw
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if ":" in host:  # an IPv6 literal: urlsplit gives it without its brackets
        host = f"[{host}]"
    port = parts.port if _port_ok(parts) else None
    netloc = host if port is None or str(port) == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%")
    path = path.rstrip("/") if path not in ("", "/") else ""
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    fragment = parts.fragment if keep_fragment and ":~:" not in parts.fragment else ""
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), fragment))


def _port_ok(parts: object) -> bool:
    try:
        parts.port  # type: ignore[attr-defined]  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return True


def is_http_url(url: str) -> bool:
    return _is_http_url(url or "")


@lru_cache(maxsize=1 << 16)
def _is_http_url(url: str) -> bool:
    if PLAIN_URL.fullmatch(url.strip()):
        return True
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)
