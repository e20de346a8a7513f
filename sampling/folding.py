"""Vietnamese text compared the way people read it: without case, accents or punctuation.

Registers exported by different one-stop systems write the same header or field as "Mã đơn vị",
"MA_DON_VI" or "Mã  Đơn-vị"; they must all be recognised as one.
"""
from __future__ import annotations

import re
import unicodedata


def folded_words(text) -> list[str]:
    """'Tư pháp – Hộ tịch' -> ['tu', 'phap', 'ho', 'tich'] (đ is d: it has no combining mark)."""
    decomposed = unicodedata.normalize("NFD", str(text or "").casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")
    return re.findall(r"[a-z0-9]+", bare)
