"""The index formulas (pure, no database): rules, edges, rounding, versions, ranks."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring import methodology as M

D = Decimal


def score(code, numerator, denominator, version="2026"):
    return M.evaluate(version, {code: (numerator, denominator)}).indicators[code]


# --- Shape of the versions ------------------------------------------------------------------


def test_version_2026_has_six_groups_summing_to_100():
    v = M.get("2026")
    assert [c.key for c in v.columns] == [
        "transparency",
        "progress",
        "online",
        "payment",
        "digitisation",
        "satisfaction",
    ]
    assert {c.key: v.column_max(c.key) for c in v.columns} == {
        "transparency": 18,
        "progress": 20,
        "online": 12,
        "payment": 10,
        "digitisation": 22,
        "satisfaction": 18,
    }
    assert v.max_total == 100
    assert len(v.codes) == 21 == len(set(v.codes))


def test_version_2025_07_shows_online_and_payment_together_out_of_22():
    v = M.get("2025-07")
    assert [c.key for c in v.columns] == [
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    ]
    assert v.column_max("online") == 22
    assert v.codes == M.get("2026").codes  # same indicators, another layout
    result = M.evaluate(
        "2025-07",
        {"dossiers_online": (1, 2), "dossiers_paid_online": (1, 2), "procedures_online": (4, 5)},
    )
    # online 6.00 + procedures 2.00 + paid 3.00 in one column
    assert result.groups["online"] == D("11.00")
    assert "payment" not in result.groups


def test_unknown_version():
    with pytest.raises(M.MethodologyError, match="unknown methodology '1999'"):
        M.get("1999")


# --- Rules ------------------------------------------------------------------------------------


def test_linear_rule():
    assert score("dossiers_on_time", 2, 3).score == D("13.33")  # 20 × 2/3 = 13.333…
    assert score("dossiers_on_time", 3, 3).score == D("20.00")
    assert score("dossiers_on_time", 0, 3).score == D("0.00")


def test_target_rule_full_marks_from_the_target_up():
    # dossiers_online: target(6, 0.50)
    assert score("dossiers_online", 1, 4).score == D("3.00")  # 6 × 0.25 / 0.5
    assert score("dossiers_online", 1, 2).score == D("6.00")
    assert score("dossiers_online", 9, 10).score == D("6.00")  # capped at the maximum
    # procedures_online: target(2, 0.80); dossier_satisfaction: target(6, 0.90)
    assert score("procedures_online", 7, 10).score == D("1.75")
    assert score("dossier_satisfaction", 81, 100).score == D("5.40")
    assert score("dossier_satisfaction", 90, 100).score == D("6.00")


def test_slope_rule_is_capped():
    # fee_procedures_integrated: slope(2, 2.5) = min(2, 2.5 × r)
    assert score("fee_procedures_integrated", 1, 5).score == D("0.50")
    assert score("fee_procedures_integrated", 2, 5).score == D("1.00")
    assert score("fee_procedures_paid_online", 4, 5).score == D("2.00")
    assert score("fee_procedures_paid_online", 5, 5).score == D("2.00")


def test_empty_denominator_scores_zero_except_petitions():
    for code in ("dossiers_on_time", "dossiers_online", "dossier_satisfaction", "dossier_sync"):
        result = score(code, 0, 0)
        assert (result.ratio, result.score) == (None, D("0.00")), code
    assert score("petitions_on_time", 0, 0).score == D("6.00")
    assert score("petition_satisfaction", 0, 0).score == D("6.00")


def test_certified_copy_fixed_full_score_or_counts():
    fixed = M.evaluate("2026", {"certified_copy_service": (1, 4)}).indicators
    assert fixed["certified_copy_service"] == M.IndicatorResult(1, 4, D("25.00"), D("2.00"))
    # The portal publishes no counts and still awards the 2 points.
    absent = M.evaluate("2026", {}).indicators["certified_copy_service"]
    assert absent.score == D("2.00")
    counts = M.variant("2026", "2026-counts", certified_copy=M.COPY_COUNTS)
    assert M.evaluate(counts, {"certified_copy_service": (1, 4)}).groups["digitisation"] == D(
        "0.50"
    )


def test_digitised_dossiers_linear_or_target_is_a_version_parameter():
    assert score("digitised_dossiers", 3, 5).score == D("2.40")  # linear(4)
    older = M.variant("2026", "2026-t80", digitised_target=D("0.80"))
    assert older.indicator("digitised_dossiers").rule.describe() == "target(4, 0.8)"
    assert M.evaluate(older, {"digitised_dossiers": (3, 5)}).indicators[
        "digitised_dossiers"
    ].score == D("3.00")


def test_targets_belong_to_the_version():
    strict = M.variant("2026", "2030", satisfaction_target=D("0.95"))
    result = M.evaluate(strict, {"dossier_satisfaction": (90, 100)})
    assert result.indicators["dossier_satisfaction"].score == D("5.68")  # 6 × 0.9 / 0.95


# --- Rounding ---------------------------------------------------------------------------------


def test_round_half_up_on_exact_fractions():
    assert M.round_half_up(Fraction(5, 1000)) == D("0.01")
    assert M.round_half_up(Fraction(4999, 1000000)) == D("0.00")
    assert M.round_half_up(Fraction(1, 8)) == D("0.13")  # 0.125 → up (banker's would give 0.12)
    assert M.round_half_up(Fraction(2, 3) * 100) == D("66.67")


def test_groups_sum_rounded_indicator_scores_not_unrounded():
    # Three indicators of the digitisation group each scoring x.xx5 or so: the group is the sum
    # of the rounded scores, which differs from rounding the unrounded sum.
    counts = {
        "electronic_result": (1, 8),  # 6/8 = 0.75
        "personal_storage_linked": (1, 32),  # 4/32 = 0.125 → 0.13
        "population_data_dossiers": (1, 16),  # 2/16 = 0.125 → 0.13
    }
    result = M.evaluate("2026", counts)
    rounded = [result.indicators[c].score for c in counts]
    assert rounded == [D("0.75"), D("0.13"), D("0.13")]
    # certified copies: fixed 2.00
    assert result.groups["digitisation"] == D("3.01")
    unrounded = Fraction(6, 8) + Fraction(4, 32) + Fraction(2, 16) + 2
    assert M.round_half_up(unrounded) == D("3.00") != result.groups["digitisation"]
    assert result.total == sum(result.groups.values())


def test_ratio_is_a_percentage_with_two_decimals():
    assert score("dossiers_online", 21132, 35526).ratio == D("59.48")
    assert score("dossiers_online", 2024, 2132).ratio == D("94.93")


def test_absent_indicator_is_null_and_adds_zero():
    result = M.evaluate("2026", {"dossiers_on_time": (1, 2)})
    assert result.indicators["dossiers_online"] == M.IndicatorResult(None, None, None, None)
    assert result.groups == {
        "transparency": D("0.00"),
        "progress": D("10.00"),
        "online": D("0.00"),
        "payment": D("0.00"),
        "digitisation": D("2.00"),  # certified copies: fixed
        "satisfaction": D("0.00"),
    }
    assert result.total == D("12.00")


def test_full_marks_everywhere_total_100():
    v = M.get("2026")
    result = M.evaluate(v, {code: (10, 10) for code in v.codes})
    assert result.total == D("100.00")
    assert all(r.score == v.indicator(c).max for c, r in result.indicators.items())


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"dossiers_onlin": (1, 2)}, "unknown indicator code 'dossiers_onlin'"),
        ({"dossiers_online": (-1, 2)}, "dossiers_online: negative numerator -1"),
        ({"dossiers_online": (1, -2)}, "dossiers_online: negative denominator -2"),
        ({"dossiers_online": (3, 2)}, "dossiers_online: numerator 3 > denominator 2"),
        ({"dossiers_online": (1.5, 2)}, "numerator must be an integer"),
        ({"dossiers_online": (True, 2)}, "numerator must be an integer"),
        ({"dossiers_online": 5}, "expected a \\(numerator, denominator\\) pair"),
    ],
)
def test_malformed_counts(counts, message):
    with pytest.raises(M.MethodologyError, match=message):
        M.evaluate("2026", counts)


def test_numerator_above_denominator_where_possible_is_capped():
    # Electronic results are counted when issued, received dossiers when accepted: a window can
    # issue more results than it receives. The score is capped at the maximum.
    result = score("electronic_result", 12, 10)
    assert result.ratio == D("120.00")
    assert result.score == D("6.00")
    assert score("dossiers_paid_online", 5, 4).score == D("6.00")


# --- Ranks ------------------------------------------------------------------------------------


def test_competition_ranks_ties_share_a_rank():
    ranks = M.competition_ranks({"a": D("80"), "b": D("90"), "c": D("80"), "d": D("70")})
    assert ranks == {"b": 1, "a": 2, "c": 2, "d": 4}


# --- Properties -------------------------------------------------------------------------------

CODES = M.get("2026").codes
counts_strategy = st.integers(min_value=0, max_value=10_000)


@given(
    code=st.sampled_from(CODES),
    numerator=counts_strategy,
    extra=counts_strategy,
    version=st.sampled_from(list(M.METHODOLOGIES)),
)
def test_score_between_zero_and_max(code, numerator, extra, version):
    indicator = M.get(version).indicator(code)
    result = score(code, numerator, numerator + extra, version)
    assert D(0) <= result.score <= indicator.max
    assert result.score == result.score.quantize(D("0.01"))


@given(
    code=st.sampled_from(CODES),
    numerator=counts_strategy,
    extra=st.integers(min_value=1, max_value=10_000),
    denominator=st.integers(min_value=1, max_value=10_000),
)
def test_score_is_monotonic_in_the_numerator(code, numerator, extra, denominator):
    a = min(numerator, denominator)
    b = min(numerator + extra, denominator)
    assert score(code, a, denominator).score <= score(code, b, denominator).score


@given(
    st.dictionaries(
        st.sampled_from(CODES),
        st.tuples(counts_strategy, counts_strategy).map(lambda p: (min(p), max(p))),
    ),
    st.sampled_from(list(M.METHODOLOGIES)),
)
def test_total_is_the_sum_of_columns_and_within_100(counts, version):
    result = M.evaluate(version, counts)
    assert result.total == sum(result.groups.values())
    assert D(0) <= result.total <= D(100)
    for column in M.get(version).columns:
        assert result.groups[column.key] <= M.get(version).column_max(column.key)


@given(
    code=st.sampled_from(CODES),
    numerator=counts_strategy,
    denominator=st.integers(min_value=1, max_value=10_000),
)
def test_integer_scoring_equals_exact_fractions(code, numerator, denominator):
    """The fast integer path gives what the definition gives: round half up of the exact
    rational score, and of the exact percentage."""
    indicator = M.get("2026").indicator(code)
    result = M.score_indicator(indicator, numerator, denominator)
    exact = indicator.rule.score(Fraction(numerator, denominator))
    if indicator.fixed_full:
        exact = Fraction(indicator.max)
    assert result.score == M.round_half_up(exact)
    assert result.ratio == M.round_half_up(Fraction(numerator * 100, denominator))
