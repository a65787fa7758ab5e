"""Read side of the manager pages, exports and API: who sees which unit, what a request asks
for (date, window, methodology), and the rows of the ranking, province and unit tables.

Everything here reads published snapshots (``scoring.selectors.current_snapshots``) with a
fixed number of queries that match the snapshot indexes; custom date ranges are computed on
request from the daily facts by ``scoring.snapshots.scores_for_range``. Nothing aggregates
dossiers.

Access (``units_visible_to``) is the one rule used by pages, exports and the API:
superusers and national managers see everything; a provincial manager sees the national
ranking and the detail of their own province (the province, its provincial centre, its
communes); staff see the unit page of their own centres; anybody else sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from portal.models import ManagerScope, Province, ServiceCenter, StaffMembership
from scoring import methodology as M
from scoring import selectors
from scoring.exports import Table
from scoring.models import IndexPublication, UnitKind, Window
from scoring.snapshots import scores_for_range, window_start

CUSTOM = "custom"
WINDOWS = (
    (Window.MONTH, gettext_lazy("Month to date")),
    (Window.QUARTER, gettext_lazy("Quarter to date")),
    (Window.YTD, gettext_lazy("Year to date")),
    (CUSTOM, gettext_lazy("Custom range")),
)
DEFAULT_WINDOW = Window.YTD
MAX_CUSTOM_DAYS = 366
TREND_MIN_DAYS = 30
CACHE_SECONDS = 24 * 60 * 60
CENTER_PREFIX = "Trung tâm Phục vụ hành chính công "
# Colour bands by share of the maximum (total out of 100, a group out of its own maximum).
BANDS = (
    (Decimal("0.90"), "band-high", gettext_lazy("90 % to 100 %")),
    (Decimal("0.80"), "band-good", gettext_lazy("80 % to 90 %")),
    (Decimal("0.65"), "band-mid", gettext_lazy("65 % to 80 %")),
    (Decimal("0"), "band-low", gettext_lazy("below 65 %")),
)


# --- Access -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitScope:
    """What a user may see: everything (``nation``), the detail of some provinces, the unit
    pages of some centres (unit keys ``P42`` / ``C18073``)."""

    nation: bool = False
    provinces: frozenset[str] = frozenset()
    centers: frozenset[str] = frozenset()

    @property
    def sees_anything(self) -> bool:
        return self.nation or bool(self.provinces) or bool(self.centers)

    @property
    def sees_ranking(self) -> bool:
        """The national ranking of the 34 provinces: managers only."""
        return self.nation or bool(self.provinces)

    def sees_province(self, province_code: str) -> bool:
        return self.nation or province_code in self.provinces

    def sees_unit(self, unit: str, province_code: str) -> bool:
        return self.sees_province(province_code) or unit in self.centers

    def snapshot_filter(self) -> Q:
        """Snapshots whose detail (indicators) the user may read, as a filter (for querysets
        such as an admin changelist; the pages check units one by one)."""
        if self.nation:
            return Q()
        return Q(province_id__in=self.provinces) | Q(unit__in=self.centers)


def units_visible_to(user) -> UnitScope:
    """The one access rule of the manager pages, exports and API (cached on the user for the
    request: two small queries at most)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return UnitScope()
    cached = getattr(user, "_unit_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = UnitScope(nation=True)
    else:
        managed = list(ManagerScope.objects.filter(user=user).values_list("province_id", flat=True))
        centers = frozenset(
            StaffMembership.objects.filter(user=user).values_list("center__code", flat=True)
        )
        scope = UnitScope(
            nation=None in managed,
            provinces=frozenset(p for p in managed if p is not None),
            centers=centers,
        )
    user._unit_scope = scope
    return scope


# --- What a request asks for ------------------------------------------------------------------
class SelectionError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Selection:
    """A date (the snapshot date, or the last day of a custom range), a window and a
    methodology version. ``date_from`` is the first day of the window."""

    date: date
    window: str
    methodology: str
    date_from: date

    @property
    def custom(self) -> bool:
        return self.window == CUSTOM

    @property
    def version(self) -> M.Methodology:
        return M.get(self.methodology)

    def query(self, **extra) -> str:
        """The selection as query parameters, for links that keep it."""
        params = {"window": self.window, "methodology": self.methodology}
        if self.custom:
            params |= {"from": self.date_from.isoformat(), "to": self.date.isoformat()}
        else:
            params["date"] = self.date.isoformat()
        return urlencode(params | extra)


def _parse_date(params, name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SelectionError(
            name,
            _("%(name)s must be a date as YYYY-MM-DD, not %(value)r.")
            % {"name": name, "value": raw},
        ) from None


latest_published_date = selectors.latest_published_date


def parse_selection(params, *, latest: date | None) -> Selection:
    """Read ``date``, ``window``, ``methodology``, ``from``, ``to`` from query parameters.
    Defaults: the latest published date, year to date, methodology 2026. Raises
    SelectionError naming the bad parameter."""
    methodology = params.get("methodology") or M.DEFAULT_METHODOLOGY
    if methodology not in M.METHODOLOGIES:
        raise SelectionError(
            "methodology",
            _("Unknown methodology %(value)r (known: %(known)s).")
            % {"value": methodology, "known": ", ".join(M.METHODOLOGIES)},
        )
    window = params.get("window") or DEFAULT_WINDOW
    if window not in dict(WINDOWS):
        raise SelectionError(
            "window",
            _("Unknown window %(value)r (month, quarter, ytd or custom).") % {"value": window},
        )
    if window == CUSTOM:
        start, end = _parse_date(params, "from"), _parse_date(params, "to")
        if start is None or end is None:
            raise SelectionError("from", _("A custom range needs both from and to dates."))
        if start > end:
            raise SelectionError("to", _("The range ends before it starts."))
        if end > timezone.localdate():
            raise SelectionError("to", _("The range cannot end in the future."))
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise SelectionError(
                "from", _("A custom range is at most %(n)d days.") % {"n": MAX_CUSTOM_DAYS}
            )
        return Selection(end, window, methodology, start)
    day = _parse_date(params, "date") or latest
    if day is None:
        raise SelectionError("date", _("No index has been published yet."))
    return Selection(day, window, methodology, window_start(window, day))


# --- Presentation helpers ---------------------------------------------------------------------
def _vi() -> bool:
    return (get_language() or "vi").startswith("vi")


def localized(item) -> str:
    """A methodology item's name (group, column, indicator) in the current language."""
    return item.name_vi if _vi() else item.name_en


def band(value, maximum) -> str:
    if value is None or not maximum:
        return ""
    share = Decimal(str(value)) / Decimal(str(maximum))
    return next(css for floor, css, _label in BANDS if share >= floor)


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def shown(value, places: int = 2, *, separator: str | None = None) -> str:
    """A score or ratio as text in the current language (``83,50`` in Vietnamese), "—" when
    missing. Formatted here once rather than by template filters cell by cell: the pages
    render thousands of numbers (pass ``separator`` when formatting many)."""
    if value is None:
        return "—"
    return f"{value:.{places}f}".replace(".", separator or get_format("DECIMAL_SEPARATOR"))


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    maximum: Decimal


def columns(version: M.Methodology) -> list[Column]:
    """The display columns of a version: six groups ("2026") or five ("2025-07")."""
    return [Column(c.key, localized(c), version.column_max(c.key)) for c in version.columns]


@dataclass
class Score:
    """A unit's index for the selection: a published snapshot or a custom-range result."""

    unit: str
    kind: str
    province: str
    name: str
    total: Decimal
    groups: dict[str, Decimal]
    indicators: dict[str, list]
    rank: int | None = None
    rank_of: int | None = None
    group_ranks: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short name for tables and charts: the commune rather than its centre's full
        name; the provincial centre as such (the province itself keeps its name)."""
        if self.kind == UnitKind.PROVINCIAL_CENTER:
            return _("Provincial service centre")
        if self.kind == UnitKind.COMMUNE and self.name.startswith(CENTER_PREFIX):
            return self.name[len(CENTER_PREFIX) :]
        return self.name

    @classmethod
    def from_snapshot(cls, s) -> Score:
        return cls(
            unit=s.unit,
            kind=s.unit_kind,
            province=s.province_id,
            name=s.name,
            total=dec(s.total),
            groups={k: dec(v) for k, v in (s.groups or {}).items()},
            # Ranking reads defer the counts: don't load (and score) them one row at a time.
            indicators={} if "counts" in s.get_deferred_fields() else s.indicators,
            rank=s.rank,
            rank_of=s.rank_of,
            group_ranks=s.group_ranks or {},
        )


@dataclass(frozen=True)
class Cell:
    value: Decimal | None
    maximum: Decimal
    rank: int | None = None
    name: str = ""
    separator: str = ","
    band: str = field(init=False)
    text: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "band", band(self.value, self.maximum))
        object.__setattr__(self, "text", shown(self.value, separator=self.separator))


@dataclass(frozen=True)
class Change:
    """Since an earlier published date: score difference and places gained (positive = up)."""

    score: Decimal
    places: int | None

    @property
    def direction(self) -> str:
        return "up" if self.score > 0 else "down" if self.score < 0 else "same"

    @property
    def shown(self) -> str:
        """Signed, in the current language's number format: ``+1,25`` / ``−0,40``."""
        sign = "+" if self.score > 0 else "−" if self.score < 0 else "±"
        return sign + shown(abs(self.score))

    @property
    def places_shown(self) -> str:
        if not self.places:
            return ""
        return f"+{self.places}" if self.places > 0 else f"−{-self.places}"

    @property
    def places_label(self) -> str:
        return _("%(n)s places") % {"n": self.places_shown} if self.places else ""


@dataclass
class Row:
    score: Score
    total: Cell
    groups: list[Cell]
    change_day: Change | None = None
    change_week: Change | None = None
    visible: bool = False  # the user may open this unit's page
    href: str = ""  # its page, set by the view when visible

    @property
    def changes(self) -> tuple[Change | None, Change | None]:
        return (self.change_day, self.change_week)

    @property
    def unit(self) -> str:
        return self.score.unit


def _change(now: Score, before: dict | None) -> Change | None:
    if before is None:
        return None
    places = None
    if now.rank is not None and before.get("rank") is not None:
        places = before["rank"] - now.rank
    return Change(now.total - dec(before["total"]), places)


def build_rows(
    scores: list[Score],
    cols: list[Column],
    scope: UnitScope,
    *,
    day_before: dict[str, dict] | None = None,
    week_before: dict[str, dict] | None = None,
) -> list[Row]:
    rows = []
    separator = get_format("DECIMAL_SEPARATOR")
    for s in scores:
        rows.append(
            Row(
                score=s,
                total=Cell(s.total, Decimal(100), separator=separator),
                groups=[
                    Cell(
                        s.groups.get(c.key),
                        c.maximum,
                        s.group_ranks.get(c.key),
                        c.name,
                        separator=separator,
                    )
                    for c in cols
                ],
                change_day=_change(s, (day_before or {}).get(s.unit)),
                change_week=_change(s, (week_before or {}).get(s.unit)),
                visible=scope.sees_unit(s.unit, s.province),
            )
        )
    return rows


# --- Reading snapshots ------------------------------------------------------------------------
SNAPSHOT_FIELDS = (
    "unit",
    "unit_kind",
    "province_id",
    "name",
    "total",
    "groups",
    "rank",
    "rank_of",
    "group_ranks",
)


def _earlier_in_province(selection: Selection, province: str) -> tuple[dict, dict]:
    """Totals and ranks of a province's units published one day and one week before the
    selection's date (one query on the snapshot_province index)."""
    day, week = selection.date - timedelta(days=1), selection.date - timedelta(days=7)
    rows = (
        selectors.current_snapshots()
        .filter(
            date__in=(day, week),
            window=selection.window,
            methodology=selection.methodology,
            province_id=province,
        )
        .values("date", "unit", "total", "rank")
    )
    by_date: dict[date, dict] = {day: {}, week: {}}
    for row in rows:
        by_date[row["date"]][row["unit"]] = row
    return by_date[day], by_date[week]


def _ranking_before(selection: Selection, days: int) -> dict[str, dict]:
    before = selectors.ranking_change(
        on=selection.date, days=days, window=selection.window, methodology=selection.methodology
    )
    return {unit: {"rank": rank, "total": total} for unit, (rank, total) in before.items()}


def _publication_stamp() -> str:
    """Changes whenever a run publishes: cached computations from the daily facts are keyed
    by it, so a recompute is seen at once."""
    stamp = IndexPublication.objects.aggregate(
        at=Max("published_at"), run=Max("run_id"), dates=Count("id")
    )
    if stamp["at"] is None:
        return "none"
    # The count and the newest run as well: a publication removed, or two published within
    # the clock's resolution, still change the stamp.
    return f"{stamp['at'].isoformat()}-{stamp['run']}-{stamp['dates']}"


# The last values read, in this process: unpickling a province's ranked rows from Redis
# (thousands of small objects) costs more than rendering them. Keys carry the publication
# stamp, so an entry is never stale; callers only read the values they get.
_RECENT: dict[str, object] = {}
RECENT_ENTRIES = 64


def cached_until_next_publication(key: str, compute):
    """``compute()``, cached under ``key`` and the publication stamp (a new publication
    makes a new key, so nothing stale is ever read): in this process, then in the shared
    cache. The value is shared between requests: read it, never change it."""
    key = f"scoring:pages:{key}:{_publication_stamp()}"
    value = _RECENT.get(key)
    if value is not None:
        return value
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    if len(_RECENT) >= RECENT_ENTRIES:
        _RECENT.clear()
    _RECENT[key] = value
    return value


def _from_unit_score(u) -> Score:
    return Score(
        unit=u.key,
        kind=u.kind,
        province=u.province,
        name=u.name,
        total=u.total,
        groups=dict(u.groups),
        indicators=u.indicators_json(),
        rank=u.rank,
        rank_of=u.rank_of,
        group_ranks=dict(u.group_ranks),
    )


def range_scores(selection: Selection, province: str | None = None) -> list[Score]:
    """A custom range scored on request from the daily facts (``scores_for_range``): the 34
    provinces ranked, plus the units of ``province`` ranked within it. Cached until the next
    publication."""

    def compute():
        scored = scores_for_range(
            date_from=selection.date_from,
            date_to=selection.date,
            methodology=selection.methodology,
            province=province,
        )
        units = scored.provinces() + (scored.province_units(province) if province else [])
        return [_from_unit_score(u) for u in units]

    return cached_until_next_publication(
        f"range:{selection.date_from}:{selection.date}:{selection.methodology}:{province}", compute
    )


def statistics_report(selection: Selection, province: str) -> dict:
    """The seed article's statistics table for the province and the selection's window
    (``scoring.report.province_report``), cached until the next publication."""
    from scoring.report import province_report

    return cached_until_next_publication(
        f"report:{province}:{selection.date_from}:{selection.date}:{selection.methodology}",
        lambda: province_report(
            province, selection.date_from, selection.date, selection.methodology
        ),
    )


@dataclass
class Ranking:
    selection: Selection
    columns: list[Column]
    rows: list[Row]


def national_ranking(selection: Selection, scope: UnitScope) -> Ranking:
    """The 34 provinces ranked by total, with group scores and changes since the previous day
    and week. Three queries for a standard window."""
    cols = columns(selection.version)
    if selection.custom:
        scores = [s for s in range_scores(selection) if s.kind == UnitKind.PROVINCE]
        return Ranking(selection, cols, build_rows(scores, cols, scope))
    snapshots = selectors.national_ranking(
        on=selection.date, window=selection.window, methodology=selection.methodology
    ).only(*SNAPSHOT_FIELDS)
    scores = [Score.from_snapshot(s) for s in snapshots]
    rows = build_rows(
        scores,
        cols,
        scope,
        day_before=_ranking_before(selection, 1) if scores else {},
        week_before=_ranking_before(selection, 7) if scores else {},
    )
    return Ranking(selection, cols, rows)


@dataclass
class ProvinceDetail:
    selection: Selection
    province: Province
    columns: list[Column]
    score: Row | None  # the province pooled
    units: list[Row]  # its provincial centre and communes, ranked


def province_detail(selection: Selection, province: Province, scope: UnitScope) -> ProvinceDetail:
    """The province pooled and its units ranked within it, with changes since the previous
    day and week. Two queries for a standard window (snapshot_province index)."""
    cols = columns(selection.version)
    day = week = {}
    if selection.custom:
        scores = [s for s in range_scores(selection, province.code) if s.province == province.code]
    else:
        snapshots = (
            selectors.current_snapshots()
            .filter(
                date=selection.date,
                window=selection.window,
                methodology=selection.methodology,
                province_id=province.code,
            )
            .only(*SNAPSHOT_FIELDS)
            .order_by("rank", "unit")
        )
        scores = [Score.from_snapshot(s) for s in snapshots]
        if scores:
            day, week = _earlier_in_province(selection, province.code)
    rows = build_rows(scores, cols, scope, day_before=day, week_before=week)
    pooled = next((r for r in rows if r.score.kind == UnitKind.PROVINCE), None)
    units = sorted(
        (r for r in rows if r.score.kind != UnitKind.PROVINCE),
        key=lambda r: (r.score.rank is None, r.score.rank or 0, r.unit),
    )
    return ProvinceDetail(selection, province, cols, pooled, units)


# --- Units ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    key: str
    kind: str
    province: Province
    name: str


def resolve_unit(key: str) -> Unit | None:
    """``"42"`` → the province pooled; ``"P42"`` / ``"C18073"`` → a service centre. One query."""
    if key.isdigit() and len(key) == 2:
        province = Province.objects.filter(code=key).first()
        return province and Unit(key, UnitKind.PROVINCE, province, province.name)
    center = ServiceCenter.objects.select_related("province").filter(code=key).first()
    if center is None:
        return None
    kind = (
        UnitKind.PROVINCIAL_CENTER
        if center.level == ServiceCenter.Level.PROVINCIAL
        else UnitKind.COMMUNE
    )
    return Unit(key, kind, center.province, center.name)


@dataclass(frozen=True)
class IndicatorLine:
    code: str
    name: str
    numerator: int | None
    denominator: int | None
    ratio: Decimal | None
    score: Decimal | None
    maximum: Decimal
    rule: str

    @property
    def band(self) -> str:
        return band(self.score, self.maximum)


@dataclass(frozen=True)
class IndicatorGroup:
    column: Column
    score: Decimal | None
    rank: int | None
    lines: list[IndicatorLine]

    @property
    def band(self) -> str:
        return band(self.score, self.column.maximum)


def indicator_groups(score: Score, version: M.Methodology) -> list[IndicatorGroup]:
    """Every indicator of the version with numerator, denominator, ratio (%), score and
    maximum, under the display column it belongs to."""
    out = []
    for col, meta in zip(columns(version), version.columns):
        lines = []
        for indicator in version.indicators:
            if indicator.group not in meta.groups:
                continue
            values = score.indicators.get(indicator.code) or [None, None, None, None]
            numerator, denominator, ratio, points = (list(values) + [None] * 4)[:4]
            lines.append(
                IndicatorLine(
                    indicator.code,
                    localized(indicator),
                    numerator,
                    denominator,
                    dec(ratio),
                    dec(points),
                    indicator.max,
                    indicator.rule.describe(),
                )
            )
        out.append(
            IndicatorGroup(col, score.groups.get(col.key), score.group_ranks.get(col.key), lines)
        )
    return out


def unit_score(selection: Selection, unit: Unit) -> Score | None:
    if selection.custom:
        scores = range_scores(selection, unit.province.code)
        return next((s for s in scores if s.unit == unit.key), None)
    snapshot = selectors.unit_snapshot(
        unit=unit.key, on=selection.date, window=selection.window, methodology=selection.methodology
    )
    return snapshot and Score.from_snapshot(snapshot)


def unit_series(unit: Unit, selection: Selection, start: date):
    """The unit's published snapshots from ``start`` to the selection's date, oldest first
    (the API's day-by-day series; paginated by the caller)."""
    return selectors.unit_trend(
        unit=unit.key,
        date_from=start,
        date_to=selection.date,
        window=selection.window,
        methodology=selection.methodology,
    ).only(*SNAPSHOT_FIELDS, "date", "window_from", "methodology", "counts")


@dataclass
class Trend:
    window: str
    dates: list[date]
    totals: list[Decimal | None]
    groups: dict[str, list[Decimal | None]]


def unit_trend(selection: Selection, unit: Unit) -> Trend:
    """The unit's published total and groups day by day over the window's days (at least the
    last 30 days). A custom range shows the year-to-date scores over its days. One query: on
    the partial ``snapshot_trend_ytd`` index for the year to date, date by date on the unique
    constraint through the publications for a month or a quarter (at most 92 dates)."""
    window = Window.YTD if selection.custom else selection.window
    start = min(selection.date_from, selection.date - timedelta(days=TREND_MIN_DAYS - 1))
    rows = selectors.unit_trend(
        unit=unit.key,
        date_from=start,
        date_to=selection.date,
        window=window,
        methodology=selection.methodology,
    ).values_list("date", "total", "groups")
    keys = [c.key for c in selection.version.columns]
    trend = Trend(window, [], [], {k: [] for k in keys})
    for day, total, groups in rows:
        trend.dates.append(day)
        trend.totals.append(dec(total))
        for k in keys:
            trend.groups[k].append(dec((groups or {}).get(k)))
    return trend


# --- Tables for export (the same rows the pages render) ---------------------------------------
def _change_cells(change: Change | None) -> list:
    return [None, None] if change is None else [change.score, change.places]


def ranking_table(key: str, title: str, rows: list[Row], cols: list[Column]) -> Table:
    headers = [_("Rank"), _("Unit code"), _("Unit"), _("Total")]
    headers += [f"{c.name} ({c.maximum})" for c in cols]
    headers += [
        _("Change since previous day"),
        _("Places since previous day"),
        _("Change since previous week"),
        _("Places since previous week"),
    ]
    table = Table(key, title, headers)
    for row in rows:
        s = row.score
        table.rows.append(
            [s.rank, s.unit, s.name, s.total]
            + [cell.value for cell in row.groups]
            + _change_cells(row.change_day)
            + _change_cells(row.change_week)
        )
    return table


def indicators_table(score: Score, groups: list[IndicatorGroup]) -> Table:
    table = Table(
        "indicators",
        _("Indicators"),
        [
            _("Group"),
            _("Indicator code"),
            _("Indicator"),
            _("Numerator"),
            _("Denominator"),
            _("Ratio (%)"),
            _("Score"),
            _("Maximum"),
        ],
    )
    for group in groups:
        for line in group.lines:
            table.rows.append(
                [
                    group.column.name,
                    line.code,
                    line.name,
                    line.numerator,
                    line.denominator,
                    line.ratio,
                    line.score,
                    line.maximum,
                ]
            )
        table.rows.append(
            [
                group.column.name,
                "",
                _("Group score"),
                None,
                None,
                None,
                group.score,
                group.column.maximum,
            ]
        )
    table.rows.append(["", "", _("Total"), None, None, None, score.total, Decimal(100)])
    return table


def trend_table(trend: Trend, cols: list[Column]) -> Table:
    table = Table("trend", _("Trend"), [_("Date"), _("Total")] + [c.name for c in cols])
    for i, day in enumerate(trend.dates):
        table.rows.append([day, trend.totals[i]] + [trend.groups[c.key][i] for c in cols])
    return table


# --- The seed article's statistics table (scoring.report.province_report) ---------------------
@dataclass(frozen=True)
class Pair:
    numerator: int
    denominator: int
    is_pair = True

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return M.round_half_up(Fraction(self.numerator, self.denominator) * 100)


@dataclass(frozen=True)
class ReportLine:
    label: str
    province: int | Pair | None
    commune: int | Pair | None
    total: int | Pair | None
    indent: bool = False

    @property
    def cells(self) -> tuple:
        return (self.province, self.commune, self.total)


def _pair(value) -> Pair | None:
    return None if value is None else Pair(int(value[0]), int(value[1]))


def report_lines(report: dict) -> list[ReportLine]:
    """The rows of the statistics table, as in the seed article: received by level, carried
    over, finished early / on time / late, in process, and the online, digitisation,
    electronic-result and online-payment shares by level."""
    received, finished = report["received"], report["finished"]
    lines = [
        ReportLine(
            _("Dossiers received in the window"),
            received["province"],
            received["commune"],
            received["province"] + received["commune"],
        ),
        ReportLine(_("Carried over from before the window"), None, None, received["carried_over"]),
        ReportLine(_("Dossiers handled (received + carried over)"), None, None, received["total"]),
        ReportLine(_("Finished"), None, None, finished["total"]),
        ReportLine(_("finished early"), None, None, finished["early"], indent=True),
        ReportLine(_("finished on the due date"), None, None, finished["on_time"], indent=True),
        ReportLine(_("finished late"), None, None, finished["late"], indent=True),
        ReportLine(
            _("Early or on time, of finished"),
            None,
            None,
            Pair(finished["early"] + finished["on_time"], finished["total"]),
        ),
        ReportLine(_("Still in process"), None, None, report["in_process"]),
    ]
    for key, label in (
        ("online", _("Submitted online")),
        ("digitised_dossiers", _("Digitised at intake")),
        ("electronic_results", _("Electronic results")),
        ("paid_online", _("Fee-bearing dossiers paid online")),
    ):
        part = report.get(key) or {}
        lines.append(
            ReportLine(
                label,
                _pair(part.get("province")),
                _pair(part.get("commune")),
                _pair(part.get("total")),
            )
        )
    return lines


def report_table(lines: list[ReportLine]) -> Table:
    table = Table(
        "report",
        _("Statistics"),
        [
            _("Figure"),
            _("Province level"),
            _("Province level: of"),
            _("Commune level"),
            _("Commune level: of"),
            _("Whole province"),
            _("Whole province: of"),
        ],
    )
    for line in lines:
        cells: list = [line.label]
        for value in (line.province, line.commune, line.total):
            if isinstance(value, Pair):
                cells += [value.numerator, value.denominator]
            else:
                cells += [value, None]
        table.rows.append(cells)
    return table
