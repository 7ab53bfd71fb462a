"""`If-None-Match` as RFC 9110 §13.1.2 reads it, in one place for every answer that has an
ETag (/v1, `Validated` endpoints, cache hits, shipped files).

Weak comparison (§8.8.3.2): two tags match when their opaque parts are equal, whether
either is weak (`W/"…"`) or strong. A client that kept a strong `"7-ab"` and one that kept
our weak `W/"7-ab"` both hold a copy that is equivalent to the current one, so both get a
304. `*` matches any current representation: every answer these helpers see has one (a
404 or 503 never reaches them), so `If-None-Match: *` is always a 304 for a GET.
"""

from __future__ import annotations

import re

_TAG = re.compile(rb'\s*(?:W/)?("[^"]*")\s*(?:,|$)')


def _opaque(etag: bytes) -> bytes:
    return etag[2:] if etag.startswith(b"W/") else etag


def none_match(header: str | bytes, etag: str | bytes) -> bool:
    """Whether `If-None-Match: header` is false for the representation tagged `etag` (the
    client's copy is current: a 304). A header that is not a list of tags matches nothing."""
    raw = header.encode("latin-1") if isinstance(header, str) else header
    tag = _opaque(etag.encode("latin-1") if isinstance(etag, str) else etag)
    if raw.strip() == b"*":
        return True
    position = 0
    while position < len(raw):
        found = _TAG.match(raw, position)
        if found is None or found.end() == position:
            return False
        if found.group(1) == tag:
            return True
        position = found.end()
    return False
