"""How the ops and merchant pages write an amount of dong: the one place to change it.

A plain integer for now (the admin's shared VND format, `55.000 ₫`, is to replace this body); the
pages' money cells and the charts' hover titles all go through `vnd`.
"""


def vnd(amount: int | float | None) -> str:
    """An amount of dong as the pages show it; empty for no amount."""
    return "" if amount is None else str(int(amount))
