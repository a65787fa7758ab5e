"""Template filters of the staff screens and slips."""

from django import template

from dossiers.selectors import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    """A person's name in Vietnamese order: family and middle names, then the given name."""
    return _person_name(user)
