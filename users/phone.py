"""Phone numbers are the login: every spelling of one number normalizes to one E.164 string."""

import phonenumbers

DEFAULT_REGION = "VN"


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """`0912 345 678`, `+84912345678` and `84912345678` all become `+84912345678`.

    Raises InvalidPhoneNumber for anything that is not a valid number.
    """
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    # "84912345678" without a plus is a Vietnamese number written with its country code.
    if not text.startswith("+") and digits.startswith("84") and len(digits) in (11, 12):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
