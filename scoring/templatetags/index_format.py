"""Number formatting for the index pages: counts with the language's thousands separator
(Django's Vietnamese locale defines the separator but no grouping, so ``intcomma`` prints
35510 where a reader expects 35.510)."""

from django import template
from django.utils.formats import get_format

register = template.Library()


@register.filter
def grouped(value) -> str:
    """``35510`` → ``35.510`` (vi) / ``35,510`` (en); anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return f"{value:,}".replace(",", get_format("THOUSAND_SEPARATOR"))
