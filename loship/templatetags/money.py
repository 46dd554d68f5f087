"""`{% load money %}` then `{{ order.total_vnd|vnd }}` -> `55.000 ₫` (loship.money.format_vnd)."""

from django import template

from loship.money import format_vnd

register = template.Library()


@register.filter
def vnd(amount: int | None) -> str:
    return format_vnd(amount)
