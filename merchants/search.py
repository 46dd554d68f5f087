"""Vietnamese text as customers type it: no diacritics, no case, "đ" as "d".

"Bún bò Huế" -> "bun bo hue", "Đậu hũ" -> "dau hu". The same function normalizes stored text and
queries, so the comparison is plain substring matching on already-normalized strings.
"""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", ascii_only.lower()).strip()
