"""Text folding shared by the loaders and the database layer: below both, so neither has to
reach up into the other for it."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NAME_KEY_DROP = re.compile(r"[.,'’`\"]")


def valid_unicode(text: str) -> str:
    """Text that encodes as UTF-8: surrogate pairs (as UTF-16 sources such as PDFium hand
    out characters beyond U+FFFF) joined into their character, a lone surrogate U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def name_key(name: str) -> str:
    """The folded form two spellings of one name share: case, spacing and punctuation."""
    folded = _NAME_KEY_DROP.sub("", unicodedata.normalize("NFKC", name)).replace("&", " AND ")
    return _SPACES.sub(" ", folded).strip().upper()
