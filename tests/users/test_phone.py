import pytest

from users.phone import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("(091) 234-5678", "+84912345678"),
        (" +84 912 345 678 ", "+84912345678"),
        ("0283 822 1234", "+842838221234"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_every_spelling_of_a_number_normalizes_to_one_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "abc", "09123", "+84 000 000 000", "0912 345 678 999 999"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(raw)
