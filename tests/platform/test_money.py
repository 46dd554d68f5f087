"""VND as people read and type it (loship.money): one formatter and one parser for the whole admin."""

import pytest
from django.template import Context, Template

from loship.money import format_vnd, parse_vnd


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (55_000, "55.000 ₫"),
        (1_526_000, "1.526.000 ₫"),
        (999, "999 ₫"),
        (0, "0 ₫"),
        (-5_000, "-5.000 ₫"),
        (1_000_000_000, "1.000.000.000 ₫"),
    ],
)
def test_amounts_read_with_dots_and_the_dong_sign(amount: int, text: str) -> None:
    assert format_vnd(amount) == text


def test_a_missing_amount_is_an_empty_cell_and_the_sign_can_be_left_off() -> None:
    assert format_vnd(None) == ""
    assert format_vnd(1_526_000, symbol=False) == "1.526.000"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("55.000", 55_000),
        ("55000", 55_000),
        ("55.000 ₫", 55_000),
        ("55.000₫", 55_000),
        ("55,000", 55_000),
        ("55.000đ", 55_000),
        ("55 000 VND", 55_000),
        ("  1.526.000 ₫ ", 1_526_000),
        ("-5.000", -5_000),
        ("0", 0),
    ],
)
def test_what_people_type_is_read_as_dong(typed: str, amount: int) -> None:
    assert parse_vnd(typed) == amount


@pytest.mark.parametrize("typed", ["", "₫", "abc", "55.00", "1.5", "55.000,5", "1,000.000", "12..000"])
def test_what_is_not_an_amount_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_vnd(typed)


def test_the_formatted_text_reads_back_as_the_same_amount() -> None:
    for amount in (0, 7, 55_000, 1_526_000, 123_456_789):
        assert parse_vnd(format_vnd(amount)) == amount


def test_templates_use_the_same_formatter() -> None:
    rendered = Template("{% load money %}{{ total|vnd }}|{{ nothing|vnd }}").render(
        Context({"total": 1_526_000, "nothing": None})
    )
    assert rendered == "1.526.000 ₫|"
