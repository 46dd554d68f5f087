"""Phone numbers never reach the other side of a chat: digits that read as one are masked before the
message is stored.

A phone number here is nine or more digits, however they are spaced or punctuated (`0912 345 678`,
`+84.912.345.678`, `(028) 3822-1234`, `0 9 1 2 3 4 5 6 7 8`); each of its digits becomes `*`. Shorter
runs stay: a 4-digit delivery code, a price (`85.000`), a house number. Numbers spelt out in words are
beyond what a pattern can tell from ordinary text.
"""

import re

MIN_DIGITS = 9
MASK = "*"

_PHONE_LIKE = re.compile(rf"\+?\d(?:[\s.\-()/]{{0,3}}\d){{{MIN_DIGITS - 1},}}")
_DIGIT = re.compile(r"\d")


def mask_phone_numbers(text: str) -> tuple[str, bool]:
    """`text` with the digits of every phone-like number masked, and whether any was."""
    masked, count = _PHONE_LIKE.subn(lambda match: _DIGIT.sub(MASK, match.group()), text)
    return masked, count > 0
