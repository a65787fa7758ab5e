"""Reads of the index for pages, the API, exports and commands. Everything user-facing reads
published snapshots through ``current_snapshots()``; custom ranges go through
``scoring.snapshots.scores_for_range``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import F, QuerySet

from scoring.methodology import DEFAULT_METHODOLOGY
from scoring.models import IndexPublication, IndexRun, IndexSnapshot, UnitKind, Window


def current_snapshots(dates: tuple[date, date] | None = None) -> QuerySet[IndexSnapshot]:
    """Snapshots of the run currently published for their date (never a run in progress, never
    a superseded one). ``dates`` (first, last): only those dates, the range put on the
    publications too, in the same join, so a unit's rows are read date by date from the
    range's publications alone."""
    if dates is None:
        return IndexSnapshot.objects.filter(run__publications__date=F("date"))
    return IndexSnapshot.objects.filter(
        run__publications__date=F("date"), run__publications__date__range=dates, date__range=dates
    )


def latest_published_date() -> date | None:
    return IndexPublication.objects.order_by("-date").values_list("date", flat=True).first()


def published_on_or_before(on: date) -> date | None:
    return (
        IndexPublication.objects.filter(date__lte=on)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )


def national_ranking(
    *, on: date, window: str = Window.YTD, methodology: str = DEFAULT_METHODOLOGY
) -> QuerySet[IndexSnapshot]:
    """The provinces for a date, by rank (ties in code order)."""
    return (
        current_snapshots()
        .filter(date=on, window=window, methodology=methodology, unit_kind=UnitKind.PROVINCE)
        .order_by("rank", "unit")
    )


def province_units(
    *, province: str, on: date, window: str = Window.YTD, methodology: str = DEFAULT_METHODOLOGY
) -> QuerySet[IndexSnapshot]:
    """A province's provincial centre and communes for a date, by rank within the province."""
    return (
        current_snapshots()
        .filter(date=on, window=window, methodology=methodology, province_id=province)
        .exclude(unit_kind=UnitKind.PROVINCE)
        .order_by("rank", "unit")
    )


def unit_snapshot(
    *, unit: str, on: date, window: str = Window.YTD, methodology: str = DEFAULT_METHODOLOGY
) -> IndexSnapshot | None:
    return (
        current_snapshots()
        .filter(unit=unit, date=on, window=window, methodology=methodology)
        .first()
    )


def unit_trend(
    *,
    unit: str,
    date_from: date,
    date_to: date,
    window: str = Window.YTD,
    methodology: str = DEFAULT_METHODOLOGY,
) -> QuerySet[IndexSnapshot]:
    """A unit's snapshots over time (one per published date), oldest first."""
    return (
        current_snapshots((date_from, date_to))
        .filter(unit=unit, window=window, methodology=methodology)
        .order_by("date")
    )


def ranking_change(
    *, on: date, days: int, window: str = Window.YTD, methodology: str = DEFAULT_METHODOLOGY
) -> dict[str, tuple[int | None, float]]:
    """Each province's (rank, total) ``days`` before ``on`` (for "change since yesterday/last
    week"); empty when that date was never published."""
    rows = national_ranking(on=on - timedelta(days=days), window=window, methodology=methodology)
    return {
        unit: (rank, float(total))
        for unit, rank, total in rows.values_list("unit", "rank", "total")
    }


def recent_runs(limit: int = 20) -> QuerySet[IndexRun]:
    return IndexRun.objects.order_by("-started_at")[:limit]
