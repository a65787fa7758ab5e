"""Index API v1: ``/api/v1/rankings/`` and ``/api/v1/units/{id}/scores/``.

Same reads and the same access rule as the manager pages (``scoring.pages``): published
snapshots for the standard windows, a computation from the daily facts for a custom range;
``units_visible_to`` decides who sees what. Bounded pages everywhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import Province
from scoring import pages
from scoring.api import serializers

SELECTION_PARAMETERS = [
    OpenApiParameter(
        "window",
        OpenApiTypes.STR,
        enum=[k for k, _ in pages.WINDOWS],
        description="month, quarter, ytd (year to date, the default) or custom (needs from, to).",
    ),
    OpenApiParameter(
        "methodology",
        OpenApiTypes.STR,
        enum=["2026", "2025-07"],
        description='Methodology version; "2026" (six groups, the default) or "2025-07" '
        "(five columns).",
    ),
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (custom window, or series start)."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last day (custom window, or series end)."
    ),
]


def _selection(params) -> pages.Selection:
    try:
        return pages.parse_selection(params, latest=pages.latest_published_date())
    except pages.SelectionError as exc:
        if exc.field == "date" and not params.get("date"):
            raise NotFound(exc.message) from None
        raise ValidationError({exc.field: [exc.message]}) from None


class RankingPagination(LimitOffsetPagination):
    """A ranking is bounded by its scope (34 provinces, or at most ~170 units of a
    province); pages of up to 200 rows."""

    default_limit = 200
    max_limit = 200

    def page(self, rows: list, request) -> tuple[list, dict]:
        rows = self.paginate_queryset(rows, request)
        return rows, {
            "count": self.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
        }


def _change(change: pages.Change | None):
    return None if change is None else {"score": change.score, "places": change.places}


def _row(row: pages.Row) -> dict:
    s = row.score
    return {
        "unit": s.unit,
        "kind": s.kind,
        "province": s.province,
        "name": s.name,
        "rank": s.rank,
        "rank_of": s.rank_of,
        "total": s.total,
        "groups": s.groups,
        "group_ranks": s.group_ranks,
        "change_day": _change(row.change_day),
        "change_week": _change(row.change_week),
    }


def _selection_fields(selection: pages.Selection) -> dict:
    return {
        "date": selection.date,
        "window": selection.window,
        "window_from": selection.date_from,
        "methodology": selection.methodology,
    }


class RankingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["index"],
        operation_id="rankings_list",
        summary="Ranking of the 34 provinces, or of the units of one province",
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="Snapshot date; default the latest published date.",
            ),
            *SELECTION_PARAMETERS,
            OpenApiParameter(
                "province",
                OpenApiTypes.STR,
                description="Rank the units (provincial centre, communes) of this province.",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Rows per page (≤ 200)."),
            OpenApiParameter("offset", OpenApiTypes.INT),
        ],
        responses=serializers.RankingPageSerializer,
    )
    def get(self, request):
        scope = pages.units_visible_to(request.user)
        code = request.query_params.get("province")
        if code:
            if not scope.sees_province(code):
                raise PermissionDenied("You may see the detail of your own province only.")
            province = Province.objects.filter(code=code).first()
            if province is None:
                raise NotFound(f"No province {code!r}.")
        elif not scope.sees_ranking:
            raise PermissionDenied("The national ranking is for managers.")
        selection = _selection(request.query_params)
        if code:
            detail = pages.province_detail(selection, province, scope)
            rows, columns = detail.units, detail.columns
        else:
            ranking = pages.national_ranking(selection, scope)
            rows, columns = ranking.rows, ranking.columns
        if not rows:
            raise NotFound(f"No index published for {selection.date} ({selection.window}).")
        page, links = RankingPagination().page(rows, request)
        body = {
            **_selection_fields(selection),
            "scope": code or "nation",
            "columns": columns,
            **links,
            "results": [_row(r) for r in page],
        }
        return Response(serializers.RankingPageSerializer(body).data)


class SeriesPagination(CursorPagination):
    ordering = "date"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _decimal(value) -> str | None:
    """As DRF's DecimalField renders 2-decimal values (a string), without its per-field cost:
    a page of the series carries 200 days × 21 indicators."""
    return None if value is None else f"{Decimal(str(value)):.2f}"


def _score_json(score: pages.Score, selection: pages.Selection) -> dict:
    """One result of ``ScoreSerializer``, built directly as JSON-ready values."""
    version = selection.version
    column_of = {g: c.key for c in version.columns for g in c.groups}
    indicators = {}
    for indicator in version.indicators:
        numerator, denominator, ratio, points = (
            list(score.indicators.get(indicator.code) or []) + [None] * 4
        )[:4]
        indicators[indicator.code] = {
            "numerator": numerator,
            "denominator": denominator,
            "ratio": _decimal(ratio),
            "score": _decimal(points),
            "max": _decimal(indicator.max),
            "group": column_of[indicator.group],
        }
    return {
        "date": selection.date.isoformat(),
        "window": selection.window,
        "window_from": selection.date_from.isoformat(),
        "methodology": selection.methodology,
        "total": _decimal(score.total),
        "rank": score.rank,
        "rank_of": score.rank_of,
        "groups": {k: _decimal(v) for k, v in score.groups.items()},
        "group_ranks": score.group_ranks,
        "indicators": indicators,
    }


class UnitScoresView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["index"],
        operation_id="unit_scores",
        summary="A unit's published scores day by day, or its score over a custom range",
        description=(
            "Standard windows (month, quarter, ytd): the unit's published snapshot of each day "
            "from `from` (default: the window's first day) to `to` (default: the latest "
            "published date), oldest first, with every indicator's numerator, denominator, "
            "ratio and score. `window=custom`: one result computed from the daily facts for "
            "the range `from`..`to`."
        ),
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description='Unit key: "42" (province), "P42" (provincial centre), "C18073".',
            ),
            *SELECTION_PARAMETERS,
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="≤ 200, default 50."),
        ],
        responses=serializers.UnitScoresPageSerializer,
    )
    def get(self, request, id):  # noqa: A002 - the documented path parameter
        unit = pages.resolve_unit(id)
        if unit is None:
            raise NotFound(f"No unit {id!r}.")
        scope = pages.units_visible_to(request.user)
        if not scope.sees_unit(unit.key, unit.province.code):
            raise PermissionDenied("You may not see this unit's index.")
        head = {
            "unit": unit.key,
            "kind": unit.kind,
            "province": unit.province.code,
            "name": unit.name,
        }
        params = request.query_params
        if params.get("window") == pages.CUSTOM:
            selection = _selection(params)
            score = pages.unit_score(selection, unit)
            results = [] if score is None else [_score_json(score, selection)]
            return Response({**head, "next": None, "previous": None, "results": results})

        series_params = params.copy()
        series_params["date"] = params.get("to") or ""
        selection = _selection(series_params)
        start = _date(params, "from") or selection.date_from
        if start > selection.date:
            raise ValidationError({"from": ["The range ends before it starts."]})
        queryset = pages.unit_series(unit, selection, start)
        paginator = SeriesPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        results = []
        for snapshot in page:
            at = pages.Selection(
                snapshot.date, selection.window, selection.methodology, snapshot.window_from
            )
            results.append(_score_json(pages.Score.from_snapshot(snapshot), at))
        body = {
            **head,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": results,
        }
        return Response(body)


def _date(params, name: str) -> date | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: [f"{name} must be a date as YYYY-MM-DD."]}) from None
