"""`{{ amount|vnd }}` in the ops and merchant pages (see `ops.money`)."""

from django import template

from ops import money

register = template.Library()
register.filter("vnd", money.vnd)
