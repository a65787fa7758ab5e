"""Manager pages: the national ranking, a province, a unit — each with CSV/XLSX export of its
tables (``?format=csv|xlsx&table=...``).

Views are thin: access from ``scoring.pages.units_visible_to``, rows from ``scoring.pages``
(published snapshots only), the statistics table from ``scoring.report.province_report``,
charts from ``scoring.charts``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_cookie

from portal.models import Province
from scoring import charts, pages
from scoring import methodology as M
from scoring.exports import ExportError, export_response
from scoring.models import UnitKind

TEMPLATE_FORBIDDEN = "scoring/forbidden.html"


def _forbidden(request, message: str) -> HttpResponse:
    return render(request, TEMPLATE_FORBIDDEN, {"message": message}, status=403)


def manager_page(view):
    """Anonymous → login; logged in without any unit to see → 403 (no data shown)."""

    @wraps(view)
    @never_cache
    @vary_on_cookie
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = pages.units_visible_to(request.user)
        if not scope.sees_anything:
            return _forbidden(request, _("The index pages are for managers and staff."))
        return view(request, scope, *args, **kwargs)

    return wrapper


def _selection(request):
    """The selection asked for, or an error response (400 for bad input, 404 when nothing
    has been published yet)."""
    latest = pages.latest_published_date()
    try:
        return pages.parse_selection(request.GET, latest=latest), latest, None
    except pages.SelectionError as exc:
        status = 404 if latest is None and exc.field == "date" else 400
        response = render(
            request,
            "scoring/selection_error.html",
            {"message": exc.message, "latest": latest},
            status=status,
        )
        return None, latest, response


def _context(request, selection, latest, **extra) -> dict:
    return {
        "selection": selection,
        "latest": latest,
        "windows": pages.WINDOWS,
        "methodologies": M.METHODOLOGIES,
        "bands": pages.BANDS,
        "today": timezone.localdate(),
        "query": selection.query(),
        "previous_day": (selection.date - timedelta(days=1)).isoformat(),
        **extra,
    }


def _link(rows, url_name: str, selection, key=lambda row: row.unit) -> None:
    """Set each visible row's link (one reverse() for the table, not one per row)."""
    base = reverse(url_name, args=["-"])[: -len("-/")]
    query = selection.query()
    for row in rows:
        if row.visible:
            row.href = f"{base}{key(row)}/?{query}"


def _export_or_page(request, tables, basename, template, context, *, found=True):
    try:
        response = export_response(request.GET, tables, basename)
    except ExportError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    if response is not None:
        return response
    context["tables"] = {t.key: t for t in tables}
    return render(request, template, context, status=200 if found else 404)


@manager_page
def ranking(request, scope):
    if not scope.sees_ranking:
        if len(scope.centers) == 1:  # staff: their centre's page is what they may see
            return redirect("scoring:unit", key=next(iter(scope.centers)))
        return _forbidden(request, _("The national ranking is for managers."))
    selection, latest, error = _selection(request)
    if error:
        return error
    data = pages.national_ranking(selection, scope)
    _link(data.rows, "scoring:province", selection, key=lambda row: row.score.province)
    title = _("National ranking of the 34 provinces")
    tables = [pages.ranking_table("ranking", title, data.rows, data.columns)]
    context = _context(request, selection, latest, ranking=data, title=title)
    return _export_or_page(
        request,
        tables,
        f"ranking-{selection.window}-{selection.date}",
        "scoring/ranking.html",
        context,
        found=bool(data.rows),
    )


@manager_page
def province(request, scope, code):
    if not scope.sees_province(code):
        return _forbidden(request, _("You may see the detail of your own province only."))
    province = get_object_or_404(Province, code=code)
    selection, latest, error = _selection(request)
    if error:
        return error
    detail, report, lines, communes, chart = _province_parts(selection, province, scope)
    tables = [
        pages.ranking_table("units", _("Units of the province"), detail.units, detail.columns),
        pages.report_table(lines),
    ]
    context = _context(
        request,
        selection,
        latest,
        province=province,
        detail=detail,
        report=report,
        report_lines=lines,
        chart=chart,
        communes=communes,
        provincial_centre=f"P{province.code}",
    )
    return _export_or_page(
        request,
        tables,
        f"province-{province.code}-{selection.window}-{selection.date}",
        "scoring/province.html",
        context,
        found=detail.score is not None,
    )


@manager_page
def unit(request, scope, key):
    unit = pages.resolve_unit(key)
    if unit is None:
        return render(
            request, "scoring/selection_error.html", {"message": _("No such unit.")}, status=404
        )
    if not scope.sees_unit(unit.key, unit.province.code):
        return _forbidden(request, _("You may not see this unit's index."))
    selection, latest, error = _selection(request)
    if error:
        return error
    score = pages.unit_score(selection, unit)
    version = selection.version
    cols = pages.columns(version)
    groups = pages.indicator_groups(score, version) if score else []
    trend, total_chart, group_chart, trend_body = _trend_parts(selection, unit, cols)
    tables = [pages.trend_table(trend, cols)]
    if score:
        tables.insert(0, pages.indicators_table(score, groups))
    context = _context(
        request,
        selection,
        latest,
        unit=unit,
        score=score,
        groups=groups,
        columns=cols,
        trend=trend,
        trend_body=trend_body,
        total_chart=total_chart,
        group_chart=group_chart,
        sees_province=scope.sees_province(unit.province.code),
        is_province=unit.kind == UnitKind.PROVINCE,
    )
    return _export_or_page(
        request,
        tables,
        f"unit-{unit.key}-{selection.window}-{selection.date}",
        "scoring/unit.html",
        context,
        found=score is not None,
    )


def _province_parts(selection, province, scope):
    """The province's ranked units (linked), statistics and chart, cached under the
    publication stamp per language. The same for every viewer: whoever may open the page
    sees the province, hence every unit of it (all rows visible, all linked)."""

    def compute():
        detail = pages.province_detail(selection, province, scope)
        _link(detail.units, "scoring:unit", selection)
        report = pages.statistics_report(selection, province.code)
        lines = pages.report_lines(report)
        communes = [r for r in detail.units if r.score.kind == UnitKind.COMMUNE]
        chart = charts.bar_chart(
            [charts.Bar(r.score.label, r.score.total, r.href, r.total.band) for r in communes],
            chart_id="communes",
            title=_("Communes of %(province)s by total score") % {"province": province.name},
            description=_(
                "%(n)d communes ranked from the highest to the lowest total score, out of 100."
            )
            % {"n": len(communes)},
        )
        return detail, report, lines, communes, chart

    key = f"province:{province.code}:{selection.query()}:{get_language() or ''}"
    return pages.cached_until_next_publication(key, compute)


def _trend_parts(selection, unit, cols):
    """The unit's trend, its two charts and the rows of its table: up to a year of days,
    the costliest part of the page, the same for every request until the next publication
    (cached under the publication stamp, per language: labels and decimal separators)."""

    def compute():
        trend = pages.unit_trend(selection, unit)
        window_label = dict(pages.WINDOWS)[trend.window]
        total_chart = charts.line_chart(
            trend.dates,
            [charts.Series("total", _("Total"), trend.totals)],
            chart_id="trend-total",
            title=_("Total score of %(unit)s, %(window)s")
            % {"unit": unit.name, "window": window_label},
            description=_("Total out of 100 on each published day from %(start)s to %(end)s.")
            % {"start": trend.dates[0] if trend.dates else "—", "end": selection.date},
            y_max=100,
        )
        group_chart = charts.line_chart(
            trend.dates,
            [charts.Series(c.key, c.name, trend.groups[c.key]) for c in cols],
            chart_id="trend-groups",
            title=_("Group scores of %(unit)s, %(window)s")
            % {"unit": unit.name, "window": window_label},
            description=_("Each group's score on each published day; the maximum is %(max)s.")
            % {"max": max(c.maximum for c in cols)},
            y_max=max(c.maximum for c in cols),
        )
        trend_body = _trend_body(pages.trend_table(trend, cols).rows)
        return trend, total_chart, group_chart, trend_body

    key = ":".join(
        (
            "unit-trend",
            unit.key,
            selection.window,
            selection.methodology,
            selection.date_from.isoformat(),
            selection.date.isoformat(),
            get_language() or "",
        )
    )
    return pages.cached_until_next_publication(key, compute)


def _trend_body(rows) -> SafeString:
    """The trend table's rows (up to a year of days × 7 values), joined here: the same markup
    through the template engine, or format_html, cell by cell costs more than the rest of
    the page. Nothing to escape but the separator: cells are dates and numbers formatted
    here (digits, a sign, a dash)."""
    separator = escape(get_format("DECIMAL_SEPARATOR"))
    return mark_safe(  # noqa: S308 - dates and numbers only, see above
        "".join(
            f'<tr><th scope="row">{row[0]:%d/%m/%Y}</th>'
            + "".join(
                f'<td class="num">{pages.shown(v, separator=separator)}</td>' for v in row[1:]
            )
            + "</tr>"
            for row in rows
        )
    )


@staff_member_required
def admin_rankings(request):
    """The "Rankings" page of the admin: links to the manager pages the user may open."""
    from django.contrib import admin

    scope = pages.units_visible_to(request.user)
    if scope.nation:
        provinces = Province.objects.order_by("code")
    else:
        provinces = Province.objects.filter(code__in=scope.provinces).order_by("code")
    context = {
        **admin.site.each_context(request),
        "title": _("Rankings"),
        "scope": scope,
        "provinces": provinces,
        "centers": sorted(scope.centers),
        "latest": pages.latest_published_date(),
    }
    return render(request, "admin/scoring/rankings.html", context)
