"""Formatting for the index pages.

``grouped``: counts with the language's thousands separator (Django's Vietnamese locale
defines the separator but no grouping, so ``intcomma`` prints 35510 where a reader expects
35.510).

``ranking_rows``: the body rows of a ranking table. A province's table has up to 170 rows of
12 cells; through the template engine cell by cell that costs several times the page's
queries, so the rows are joined here (every text from the database escaped)."""

from django import template
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def grouped(value) -> str:
    """``35510`` → ``35.510`` (vi) / ``35,510`` (en); anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return f"{value:,}".replace(",", get_format("THOUSAND_SEPARATOR"))


def _change(change, up: str, down: str) -> str:
    if change is None:
        return '<span class="muted">—</span>'
    arrow = ""
    if change.direction == "up":
        arrow = f'<span aria-hidden="true">▲</span><span class="visually-hidden">{up}</span> '
    elif change.direction == "down":
        arrow = f'<span aria-hidden="true">▼</span><span class="visually-hidden">{down}</span> '
    places = (
        f' <span class="places">({escape(change.places_label)})</span>' if change.places else ""
    )
    return f'<span class="change {change.direction}">{arrow}{escape(change.shown)}{places}</span>'


def _cell(cell) -> str:
    rank = f'<span class="group-rank">#{cell.rank}</span>' if cell.rank else ""
    return f'<td class="num score {cell.band}">{escape(cell.text)}{rank}</td>'


@register.simple_tag
def ranking_rows(rows, *, selection, highlight: str = "") -> SafeString:
    """Rank, unit (linked when visible), total, groups with their ranks, and the changes
    since the previous day and week (not for a custom range). Plain f-strings with every
    text from the database escaped: ``format_html`` per cell would cost as much as the
    template engine."""
    changes = not selection.custom
    up, down = escape(_("up")), escape(_("down"))
    out = []
    for row in rows:
        s = row.score
        label = escape(s.label)
        name = f'<a href="{escape(row.href)}">{label}</a>' if row.href else label
        of = f'<span class="max">/{int(s.rank_of)}</span>' if s.rank_of else ""
        rank = int(s.rank) if s.rank is not None else "—"
        css = ' class="highlight"' if highlight and row.unit == highlight else ""
        cells = _cell(row.total) + "".join(_cell(c) for c in row.groups)
        if changes:
            cells += "".join(f'<td class="num">{_change(c, up, down)}</td>' for c in row.changes)
        out.append(
            f'<tr{css}><td class="num">{rank}{of}</td><th scope="row">{name}</th>{cells}</tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every database text above is escaped
