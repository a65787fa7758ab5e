"""The citizen-service index (Decision 766/QĐ-TTg) as data: indicators, rules, versions.

Pure Python (no Django): ``evaluate(version, counts)`` turns raw counts into scores exactly as
``shared/design/index-methodology.md`` says:

- every indicator's score is computed from its numerator and denominator (exact fractions,
  never from a rounded ratio) and rounded half up to 2 decimals;
- a group is the sum of its *rounded* indicator scores; the total is the sum of the groups;
- ratios are shown as percentages with 2 decimals (rounded half up);
- an indicator absent from the counts has ratio and score ``None`` and adds 0 to its group
  (except a fixed-score indicator, which the portal awards whatever the counts).

Versions: ``"2026"`` shows the six groups; ``"2025-07"`` shows the same indicators in the
five-column layout of mid-2025 (``online`` = online services + online payment, out of 22).
Targets and the uncertain details (digitised dossiers linear or target 80 %, original or
rescheduled due time, certified copies fixed full score or counts) are parameters of a version;
``variant()`` derives a what-if version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from math import floor

import numpy as np

LINEAR, TARGET, SLOPE = "linear", "target", "slope"
EMPTY_ZERO, EMPTY_FULL = "zero", "full"
DUE_ORIGINAL, DUE_RESCHEDULED = "original", "rescheduled"
COPY_FIXED, COPY_COUNTS = "fixed", "counts"
CENT = Fraction(1, 100)


class MethodologyError(ValueError):
    """Counts that cannot be scored (unknown code, negative count, impossible numerator)."""


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact fraction half up (away from zero for the non-negative values we score)."""
    scale = 10**places
    scaled = floor(value * scale + Fraction(1, 2))
    return Decimal(scaled).scaleb(-places).quantize(Decimal(1).scaleb(-places))


@dataclass(frozen=True)
class Rule:
    """How a ratio becomes a score: ``linear(max)``, ``target(max, t)``, ``slope(max, k)``.
    Every rule is capped at ``max`` (a ratio may exceed 1 for the few indicators whose
    numerator is not a subset of the denominator)."""

    kind: str
    max: Decimal
    parameter: Fraction | None = None  # target share t, or slope coefficient k

    def score(self, ratio: Fraction) -> Fraction:
        top = Fraction(self.max)
        if self.kind == LINEAR:
            raw = top * ratio
        elif self.kind == TARGET:
            raw = top * ratio / self.parameter
        elif self.kind == SLOPE:
            raw = self.parameter * ratio
        else:  # pragma: no cover - guarded by the constructors
            raise MethodologyError(f"unknown rule {self.kind!r}")
        return max(Fraction(0), min(top, raw))

    @cached_property
    def _integer_form(self) -> tuple[int, int, int, int]:
        """(a, b, max numerator, max denominator): the exact score of n/d is ``a·n / (b·d)``,
        capped at the maximum. Integers only: scoring 20,000 units a night stays cheap and
        exact."""
        top = Fraction(self.max)
        if self.kind == LINEAR:
            a, b = top.numerator, top.denominator
        elif self.kind == TARGET:
            q = top / self.parameter
            a, b = q.numerator, q.denominator
        else:
            a, b = self.parameter.numerator, self.parameter.denominator
        return a, b, top.numerator, top.denominator

    def score_cents(self, numerator: int, denominator: int) -> int:
        """The score of numerator/denominator in hundredths, rounded half up (= round_half_up of
        ``score``), computed with integers."""
        a, b, top_num, top_den = self._integer_form
        num, den = a * numerator, b * denominator
        if num * top_den >= top_num * den:  # capped at the maximum
            num, den = top_num, top_den
        return (200 * num + den) // (2 * den)

    def describe(self) -> str:
        if self.kind == LINEAR:
            return f"linear({self.max})"
        value = Decimal(self.parameter.numerator) / Decimal(self.parameter.denominator)
        return f"{self.kind}({self.max}, {value.normalize()})"


def linear(maximum) -> Rule:
    return Rule(LINEAR, Decimal(str(maximum)))


def target(maximum, share) -> Rule:
    share = Fraction(str(share))
    if not 0 < share <= 1:
        raise MethodologyError(f"a target share is in (0, 1], not {share}")
    return Rule(TARGET, Decimal(str(maximum)), share)


def slope(maximum, coefficient) -> Rule:
    coefficient = Fraction(str(coefficient))
    if coefficient <= 0:
        raise MethodologyError(f"a slope coefficient is positive, not {coefficient}")
    return Rule(SLOPE, Decimal(str(maximum)), coefficient)


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    name_vi: str
    name_en: str
    rule: Rule
    numerator_en: str = ""
    denominator_en: str = ""
    empty: str = EMPTY_ZERO  # score when the denominator is 0: zero, or full marks
    # False where the numerator is not a subset of the denominator (counted on other days),
    # so numerator > denominator is possible and the score is capped instead.
    bounded: bool = True
    fixed_full: bool = False  # the portal awards the maximum whatever the counts

    @property
    def max(self) -> Decimal:
        return self.rule.max


@dataclass(frozen=True)
class Group:
    key: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Column:
    """A column of the display layout: one group, or several shown together."""

    key: str
    name_vi: str
    name_en: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Params:
    """The switchable details of a version (index-methodology.md: uncertain rules and targets
    are parameters, not constants)."""

    due_basis: str = DUE_ORIGINAL  # judge dossiers on the original or the rescheduled due time
    certified_copy: str = COPY_FIXED  # fixed full score (what the portal does) or from counts
    digitised_target: Decimal | None = None  # None: linear(4); 0.80: target(4, 0.80)
    procedures_online_target: Decimal = Decimal("0.80")
    dossiers_online_target: Decimal = Decimal("0.50")
    reused_data_target: Decimal = Decimal("0.80")
    satisfaction_target: Decimal = Decimal("0.90")
    fee_procedure_slope: Decimal = Decimal("2.5")
    petition_limit_working_days: int = 15
    publication_notice_working_days: int = 5  # decision ≥ 5 working days before effect
    public_update_working_days: int = 5  # made public within 5 working days of the decision


@dataclass(frozen=True)
class Methodology:
    code: str
    name: str
    indicators: tuple[Indicator, ...]
    groups: tuple[Group, ...]
    columns: tuple[Column, ...]
    params: Params = field(default_factory=Params)

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise MethodologyError(f"unknown indicator code {code!r} in methodology {self.code}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def group_max(self, key: str) -> Decimal:
        return sum((i.max for i in self.indicators if i.group == key), Decimal(0))

    def column_max(self, key: str) -> Decimal:
        column = next(c for c in self.columns if c.key == key)
        return sum((self.group_max(g) for g in column.groups), Decimal(0))

    @property
    def max_total(self) -> Decimal:
        return sum((i.max for i in self.indicators), Decimal(0))


GROUPS = (
    Group("transparency", "Công khai, minh bạch", "Transparency"),
    Group("progress", "Tiến độ, kết quả giải quyết", "Processing progress"),
    Group("online", "Cung cấp dịch vụ công trực tuyến", "Online services"),
    Group("payment", "Thanh toán trực tuyến", "Online payment"),
    Group("digitisation", "Số hóa hồ sơ", "Digitisation"),
    Group("satisfaction", "Mức độ hài lòng", "Satisfaction"),
)
SIX_COLUMNS = tuple(Column(g.key, g.name_vi, g.name_en, (g.key,)) for g in GROUPS)
FIVE_COLUMNS = (
    SIX_COLUMNS[0],
    SIX_COLUMNS[1],
    Column(
        "online",
        "Cung cấp dịch vụ trực tuyến",
        "Online services (incl. online payment)",
        ("online", "payment"),
    ),
    SIX_COLUMNS[4],
    SIX_COLUMNS[5],
)


def _indicators(p: Params) -> tuple[Indicator, ...]:
    received = "dossiers received in the window"
    handled = "dossiers received in the window + open from before it"
    digitised_rule = linear(4) if p.digitised_target is None else target(4, p.digitised_target)
    return (
        # transparency (18): the first three are facts of the province's procedure catalogue.
        Indicator(
            "publish_on_time",
            "transparency",
            "Tỷ lệ TTHC công bố đúng hạn",
            "Procedures published on time",
            linear(6),
            "procedures whose publication decision came at least 5 working days before effect",
            "procedures in publication decisions dated in the window",
        ),
        Indicator(
            "public_update_on_time",
            "transparency",
            "Tỷ lệ TTHC được cập nhật, công khai đúng hạn",
            "Procedures made public on time",
            linear(4),
            "procedures made public within 5 working days of the decision",
            "procedures made public or due to be made public in the window",
        ),
        Indicator(
            "public_content_full",
            "transparency",
            "Tỷ lệ TTHC công khai đầy đủ nội dung",
            "Procedures published with full content",
            linear(2),
            "public procedures with every mandatory component",
            "public procedures",
        ),
        Indicator(
            "dossier_sync",
            "transparency",
            "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG",
            "Dossiers synchronised to the national portal",
            linear(6),
            "dossiers synchronised in real time",
            handled,
        ),
        # progress (20)
        Indicator(
            "dossiers_on_time",
            "progress",
            "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
            "Dossiers handled early or on time",
            linear(20),
            "finished on or before the due time + in process and not yet due at the window's end",
            handled,
        ),
        # online (12)
        Indicator(
            "procedures_online",
            "online",
            "Tỷ lệ TTHC cung cấp DVC trực tuyến",
            "Procedures offered online",
            target(2, p.procedures_online_target),
            "procedures offered online (partly or fully)",
            "procedures under the unit's authority",
        ),
        Indicator(
            "online_services_used",
            "online",
            "Tỷ lệ DVC trực tuyến có phát sinh hồ sơ",
            "Online services with dossiers",
            linear(4),
            "online services that received an online dossier in the window",
            "online services offered",
        ),
        Indicator(
            "dossiers_online",
            "online",
            "Tỷ lệ hồ sơ nộp trực tuyến",
            "Dossiers submitted online",
            target(6, p.dossiers_online_target),
            "dossiers received online",
            received,
        ),
        # payment (10)
        Indicator(
            "dossiers_paid_online",
            "payment",
            "Tỷ lệ hồ sơ thanh toán trực tuyến",
            "Fee-bearing dossiers paid online",
            linear(6),
            "fee-bearing dossiers paid online",
            "fee-bearing dossiers received in the window",
            bounded=False,
        ),
        Indicator(
            "fee_procedures_integrated",
            "payment",
            "Tỷ lệ TTHC có nghĩa vụ tài chính được tích hợp thanh toán trực tuyến",
            "Fee-bearing procedures integrated with online payment",
            slope(2, p.fee_procedure_slope),
            "fee-bearing procedures with a dossier carrying fee data in the window",
            "fee-bearing procedures",
        ),
        Indicator(
            "fee_procedures_paid_online",
            "payment",
            "Tỷ lệ TTHC có giao dịch thanh toán trực tuyến",
            "Fee-bearing procedures with an online payment",
            slope(2, p.fee_procedure_slope),
            "fee-bearing procedures with a successful online payment in the window",
            "fee-bearing procedures",
        ),
        # digitisation (22)
        Indicator(
            "electronic_result",
            "digitisation",
            "Tỷ lệ hồ sơ có cấp kết quả điện tử",
            "Dossiers with an electronic result",
            linear(6),
            "electronic results issued in the window",
            received,
            bounded=False,
        ),
        Indicator(
            "digitised_dossiers",
            "digitisation",
            "Tỷ lệ hồ sơ thực hiện số hóa",
            "Dossiers digitised",
            digitised_rule,
            "dossiers whose input documents were digitised",
            received,
        ),
        Indicator(
            "reused_data",
            "digitisation",
            "Tỷ lệ hồ sơ khai thác, sử dụng lại dữ liệu số hóa",
            "Dossiers re-using digitised data",
            target(2, p.reused_data_target),
            "dossiers re-using a previously digitised document",
            received,
        ),
        Indicator(
            "personal_storage_linked",
            "digitisation",
            "Tỷ lệ hồ sơ kết nối kho dữ liệu cá nhân",
            "Dossiers linked to the personal data store",
            linear(4),
            "dossiers taking from or pushing to the citizen's data store",
            received,
        ),
        Indicator(
            "population_data_dossiers",
            "digitisation",
            "Tỷ lệ hồ sơ sử dụng dữ liệu dân cư",
            "Dossiers using population data",
            linear(2),
            "dossiers using the national population database",
            received,
        ),
        Indicator(
            "population_data_procedures",
            "digitisation",
            "Tỷ lệ TTHC kết nối dữ liệu dân cư",
            "Procedures connected to population data",
            linear(2),
            "procedures with a dossier using population data in the window",
            "citizen-facing procedures under the unit's authority",
        ),
        Indicator(
            "certified_copy_service",
            "digitisation",
            "Tỷ lệ cung cấp chứng thực bản sao điện tử",
            "Electronic certified copies offered",
            linear(2),
            "communes offering electronic certified copies",
            "communes",
            fixed_full=p.certified_copy == COPY_FIXED,
        ),
        # satisfaction (18)
        Indicator(
            "petitions_on_time",
            "satisfaction",
            "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn",
            "Petitions handled on time",
            linear(6),
            "petitions answered on time + open within time at the window's end",
            "petitions received in the window + open from before it",
            empty=EMPTY_FULL,
        ),
        Indicator(
            "petition_satisfaction",
            "satisfaction",
            "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị",
            "Satisfaction with petition handling",
            linear(6),
            "petitions minus those rated unsatisfied, overdue or repeated",
            "petitions received in the window",
            empty=EMPTY_FULL,
        ),
        Indicator(
            "dossier_satisfaction",
            "satisfaction",
            "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
            "Satisfaction with dossier handling",
            target(6, p.satisfaction_target),
            "dossiers on time minus those with a complaint or an unsatisfied rating",
            handled,
        ),
    )


def build(code: str, name: str, *, layout: str = "six", **params) -> Methodology:
    p = Params(**params)
    if p.due_basis not in (DUE_ORIGINAL, DUE_RESCHEDULED):
        raise MethodologyError(f"due_basis is original or rescheduled, not {p.due_basis!r}")
    if p.certified_copy not in (COPY_FIXED, COPY_COUNTS):
        raise MethodologyError(f"certified_copy is fixed or counts, not {p.certified_copy!r}")
    columns = {"six": SIX_COLUMNS, "five": FIVE_COLUMNS}[layout]
    return Methodology(code, name, _indicators(p), GROUPS, columns, p)


METHODOLOGIES: dict[str, Methodology] = {
    "2026": build("2026", "Bộ chỉ số 766 — 6 nhóm (2026)"),
    "2025-07": build("2025-07", "Bộ chỉ số 766 — 5 cột (07/2025)", layout="five"),
}
DEFAULT_METHODOLOGY = "2026"


def get(version: str | Methodology) -> Methodology:
    if isinstance(version, Methodology):
        return version
    try:
        return METHODOLOGIES[version]
    except KeyError:
        known = ", ".join(METHODOLOGIES)
        raise MethodologyError(f"unknown methodology {version!r} (known: {known})") from None


def variant(version: str, code: str, *, layout: str | None = None, **params) -> Methodology:
    """A what-if version: ``variant("2026", "2026-target", digitised_target=Decimal("0.8"))``."""
    base = get(version)
    merged = replace(base.params, **params)
    layout = layout or ("five" if base.columns == FIVE_COLUMNS else "six")
    return build(code, f"{base.name} ({code})", layout=layout, **merged.__dict__)


# --- Evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorResult:
    numerator: int | None
    denominator: int | None
    ratio: Decimal | None  # percentage, 2 decimals
    score: Decimal | None  # 2 decimals


@dataclass(frozen=True)
class Result:
    methodology: str
    indicators: dict[str, IndicatorResult]
    groups: dict[str, Decimal]  # display columns of the version
    total: Decimal


def _checked(indicator: Indicator, value) -> tuple[int, int]:
    try:
        numerator, denominator = value
    except (TypeError, ValueError):
        raise MethodologyError(
            f"{indicator.code}: expected a (numerator, denominator) pair, got {value!r}"
        ) from None
    for label, count in (("numerator", numerator), ("denominator", denominator)):
        if isinstance(count, bool) or not isinstance(count, int):
            raise MethodologyError(f"{indicator.code}: {label} must be an integer, got {count!r}")
        if count < 0:
            raise MethodologyError(f"{indicator.code}: negative {label} {count}")
    if indicator.bounded and numerator > denominator:
        raise MethodologyError(
            f"{indicator.code}: numerator {numerator} > denominator {denominator}"
        )
    return numerator, denominator


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def score_indicator(indicator: Indicator, numerator: int, denominator: int) -> IndicatorResult:
    full = int(indicator.max * 100)
    if denominator == 0:
        ratio = None
        cents = full if indicator.empty == EMPTY_FULL else 0
    else:
        # percentage with 2 decimals, half up: floor(10000·n/d + 1/2)
        ratio = _cents((20000 * numerator + denominator) // (2 * denominator))
        cents = indicator.rule.score_cents(numerator, denominator)
    if indicator.fixed_full:
        cents = full
    return IndicatorResult(numerator, denominator, ratio, _cents(cents))


def evaluate(version: str | Methodology, counts: Mapping[str, tuple[int, int]]) -> Result:
    """Score raw counts ``{code: (numerator, denominator)}`` under a methodology version."""
    methodology = get(version)
    unknown = sorted(set(counts) - set(methodology.codes))
    if unknown:
        raise MethodologyError(
            f"unknown indicator code {unknown[0]!r} for methodology {methodology.code}"
        )
    results: dict[str, IndicatorResult] = {}
    group_totals = {g.key: Decimal("0.00") for g in methodology.groups}
    for indicator in methodology.indicators:
        if indicator.code in counts:
            numerator, denominator = _checked(indicator, counts[indicator.code])
            result = score_indicator(indicator, numerator, denominator)
        elif indicator.fixed_full:
            result = IndicatorResult(None, None, None, round_half_up(Fraction(indicator.max)))
        else:
            result = IndicatorResult(None, None, None, None)
        results[indicator.code] = result
        if result.score is not None:
            group_totals[indicator.group] += result.score
    columns = {
        c.key: sum((group_totals[g] for g in c.groups), Decimal("0.00"))
        for c in methodology.columns
    }
    total = sum(columns.values(), Decimal("0.00"))
    return Result(methodology.code, results, columns, total)


# --- Counts as stored with a snapshot ---------------------------------------------------------
# A snapshot keeps only each indicator's (numerator, denominator), in the version's indicator
# order: ratios and scores follow from them by ``evaluate`` (a version's rules never change
# under its code; a new rule is a new version), and a night writes less than half the text.


def stored_counts(
    version: str | Methodology, counts: Mapping[str, tuple[int, int]]
) -> list[list[int] | None]:
    """``[numerator, denominator]`` or ``None`` (not counted) per indicator of the version."""
    pairs = (counts.get(code) for code in get(version).codes)
    return [None if pair is None else [int(pair[0]), int(pair[1])] for pair in pairs]


def indicator_values(result: Result) -> dict[str, list]:
    """``{code: [numerator, denominator, ratio %, score]}`` (floats; ``None`` when not scored),
    the shape pages, exports and the API read."""
    return {
        code: [
            r.numerator,
            r.denominator,
            None if r.ratio is None else float(r.ratio),
            None if r.score is None else float(r.score),
        ]
        for code, r in result.indicators.items()
    }


def evaluate_stored(version: str | Methodology, stored) -> dict[str, list]:
    """``indicator_values`` of counts stored by ``stored_counts``."""
    methodology = get(version)
    counts = {
        code: tuple(pair) for code, pair in zip(methodology.codes, stored or ()) if pair is not None
    }
    return indicator_values(evaluate(methodology, counts))


def competition_ranks(values: Mapping[str, Decimal]) -> dict[str, int]:
    """Rank by value, descending; ties share a rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(values.items(), key=lambda kv: kv[1], reverse=True)
    ranks: dict[str, int] = {}
    previous, previous_rank = None, 0
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            previous, previous_rank = value, position
        ranks[key] = previous_rank
    return ranks


# --- Evaluation of many units at once ----------------------------------------------------------


@dataclass(frozen=True)
class ArrayResult:
    """``evaluate`` for arrays of units, in hundredths: per indicator the counts, the ratio
    (−1: no ratio) and the score (``None``: not scored); per display column and in total the
    score. Equal to ``evaluate`` unit by unit (tested)."""

    methodology: str
    counts: dict[str, tuple[np.ndarray, np.ndarray] | None]
    ratio_cents: dict[str, np.ndarray | None]
    score_cents: dict[str, np.ndarray | None]
    columns: dict[str, np.ndarray]
    total: np.ndarray


def evaluate_arrays(
    version: str | Methodology, counts: Mapping[str, tuple], size: int | None = None
) -> ArrayResult:
    """Score arrays of counts ``{code: (numerators, denominators)}`` (one element per unit;
    ``size`` units when ``counts`` is empty) with integer arithmetic on whole arrays; raises
    ``MethodologyError`` like ``evaluate``."""
    methodology = get(version)
    unknown = sorted(set(counts) - set(methodology.codes))
    if unknown:
        raise MethodologyError(
            f"unknown indicator code {unknown[0]!r} for methodology {methodology.code}"
        )
    if counts:
        size = len(next(iter(counts.values()))[0])
    group_cents = {g.key: np.zeros(size, dtype=np.int64) for g in methodology.groups}
    kept, ratios, scores = {}, {}, {}
    for indicator in methodology.indicators:
        full = int(indicator.max * 100)
        if indicator.code not in counts:
            kept[indicator.code] = ratios[indicator.code] = None
            scores[indicator.code] = np.full(size, full) if indicator.fixed_full else None
        else:
            numerator, denominator = (np.asarray(c, dtype=np.int64) for c in counts[indicator.code])
            if (numerator < 0).any() or (denominator < 0).any():
                raise MethodologyError(f"{indicator.code}: negative count")
            if indicator.bounded and (numerator > denominator).any():
                raise MethodologyError(f"{indicator.code}: numerator > denominator")
            scored = denominator > 0
            d = np.where(scored, denominator, 1)
            ratio = np.where(scored, (20000 * numerator + d) // (2 * d), -1)
            a, b, top_num, top_den = indicator.rule._integer_form
            num, den = a * numerator, b * d
            capped = num * top_den >= top_num * den
            num, den = np.where(capped, top_num, num), np.where(capped, top_den, den)
            cents = (200 * num + den) // (2 * den)
            cents = np.where(scored, cents, full if indicator.empty == EMPTY_FULL else 0)
            if indicator.fixed_full:
                cents = np.full(size, full, dtype=np.int64)
            kept[indicator.code] = (numerator, denominator)
            ratios[indicator.code], scores[indicator.code] = ratio, cents
        if scores[indicator.code] is not None:
            group_cents[indicator.group] += scores[indicator.code]
    columns = {
        c.key: sum((group_cents[g] for g in c.groups), np.zeros(size, dtype=np.int64))
        for c in methodology.columns
    }
    total = sum(columns.values(), np.zeros(size, dtype=np.int64))
    return ArrayResult(methodology.code, kept, ratios, scores, columns, total)
