"""VND as Vietnamese people write and read it: `55.000 ₫`, `1.526.000 ₫`.

Money is an integer number of dong everywhere in the code; this is the one place that turns it into
text for a person (admin columns, forms, dashboards) and back from what a person types. Dong have no
fractional part, so `.` is only ever the thousands separator; `,` is accepted as one too, since many
people type prices the English way. The REST API keeps sending plain integers.
"""

import re

SYMBOL = "₫"
#: What may follow or precede the digits and mean "dong": ₫, đ, d, vnd, vnđ (any case), spaces.
_CURRENCY = re.compile(r"(₫|vnđ|vnd|đồng|dong|đ|d)", re.IGNORECASE)
#: 1 to 3 leading digits, then groups of exactly three behind one kind of separator, or plain digits.
_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3})?(?:\1\d{3})*")


def format_vnd(amount: float | None, *, symbol: bool = True) -> str:
    """`55000` -> `55.000 ₫`; `None` -> `""` (an empty cell, not "0 ₫"). An average (a float) is rounded
    to the dong."""
    if amount is None:
        return ""
    amount = round(amount)
    digits = f"{abs(amount):,}".replace(",", ".")
    sign = "-" if amount < 0 else ""
    return f"{sign}{digits} {SYMBOL}" if symbol else f"{sign}{digits}"


def parse_vnd(text: str) -> int:
    """`55.000`, `55000`, `55.000 ₫`, `55,000đ`, `-5.000` -> the integer; anything else is a ValueError."""
    cleaned = _CURRENCY.sub("", str(text)).replace("\u00a0", " ").strip()
    negative = cleaned.startswith("-")
    cleaned = cleaned.removeprefix("-").strip()
    if not (_GROUPED.fullmatch(cleaned) or (cleaned.isascii() and cleaned.isdigit())):
        raise ValueError(f"not an amount of dong: {text!r}")
    amount = int(re.sub(r"[.,\s]", "", cleaned))
    return -amount if negative else amount
