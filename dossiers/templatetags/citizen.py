"""Template filters of the citizen pages."""

from django import template

register = template.Library()


@register.filter
def vnd(amount) -> str:
    """8000 → "8.000 VND": Vietnamese groups thousands with dots, in every UI language."""
    try:
        return f"{int(amount):,} VND".replace(",", ".")
    except (TypeError, ValueError):
        return ""
