"""Scenario files: every shipped scenario loads; a bad key is named in a one-line error."""

from datetime import date

import pytest
import yaml

from simulator.scenario import (
    ScenarioError,
    known_scenarios,
    load_scenario,
    parse_scenario,
)
from simulator.schema import SCHEMA, describe

BASE = {
    "name": "t",
    "period": {"start": "2025-07-01", "end": "2025-07-10"},
    "provinces": ["42"],
    "behaviour": {"demand": {"dossiers_per_working_day": 10}},
}


def scenario(**changes):
    raw = yaml.safe_load(yaml.safe_dump(BASE))
    for dotted, value in changes.items():
        node = raw
        *path, last = dotted.split("__")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return parse_scenario(raw)


@pytest.mark.parametrize("name", ["hatinh-2025-07", "national-2025-07", "demo"])
def test_shipped_scenarios_load(name):
    assert name in known_scenarios()
    s = load_scenario(name)
    assert s.start <= s.end and s.provinces
    assert s.index.get("window") and s.index.get("why")


def test_national_and_demo_cover_every_province():
    assert len(load_scenario("national-2025-07").provinces) == 34
    assert len(load_scenario("demo").provinces) == 34


def test_defaults_fill_what_a_scenario_leaves_out():
    s = scenario()
    p = s.behaviour["42"].on(date(2025, 7, 2))
    assert p["channels.online_share"] == SCHEMA["channels"].params["online_share"].default
    assert s.demand_per_day("42", date(2025, 7, 2)) == 10


def test_schedules_change_on_their_dates():
    s = scenario(
        behaviour__channels={
            "online_share": {"province": 0.5, "commune": {"2025-07-05": 0.7, "2025-07-01": 0.2}}
        }
    )
    b = s.behaviour["42"]
    assert b.on(date(2025, 6, 1))["channels.online_share"]["commune"] == 0.2  # before the first
    assert b.on(date(2025, 7, 4))["channels.online_share"]["commune"] == 0.2
    assert b.on(date(2025, 7, 5))["channels.online_share"]["commune"] == 0.7
    assert b.on(date(2025, 7, 5))["channels.online_share"]["province"] == 0.5


def test_overrides_change_one_province():
    s = scenario(
        provinces=["42", "01"],
        overrides={"01": {"demand": {"dossiers_per_working_day": 99}}},
    )
    assert s.demand_per_day("01", date(2025, 7, 2)) == 99
    assert s.demand_per_day("42", date(2025, 7, 2)) == 10


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        (
            {"behaviour__channels": {"online_share": {"commune": 1.3, "province": 0.5}}},
            "behaviour.channels.online_share.commune",
        ),
        ({"behaviour__staff": {"refuse_share": -0.1}}, "behaviour.staff.refuse_share"),
        ({"behaviour__staff": {"accept_delay_hours": -2}}, "behaviour.staff.accept_delay_hours"),
        ({"behaviour__staff": {"acept_delay_hours": 2}}, "behaviour.staff.acept_delay_hours"),
        ({"behaviour__staffing": {}}, "behaviour.staffing"),
        ({"provinces": ["99"]}, "provinces"),
        ({"overrides": {"77": {}}}, "overrides.77"),
        (
            {"behaviour__procedures": {"commune": {"9.999999": 1}}},
            "behaviour.procedures.commune.9.999999",
        ),
        (
            {"behaviour__procedures": {"commune": {"3.000333": 1}}},
            "behaviour.procedures.commune.3.000333",
        ),
        ({"period": {"start": "2025-07-10", "end": "2025-07-01"}}, "period.end"),
        ({"period": {"start": "2025-07-10", "end": "soon"}}, "period.end"),
        ({"behaviour__staff": {"early_share": 0.9, "late_share": 0.2}}, "late_share"),
        ({"behaviour__demand": {"weekday_weights": [1, 2]}}, "behaviour.demand.weekday_weights"),
        (
            {"behaviour__channels": {"online_share": {"2025-07-01": 2}}},
            "behaviour.channels.online_share.2025-07-01",
        ),
        ({"colour": "blue"}, "colour"),
        ({"national": {"dossiers_per_working_day": -5}}, "national.dossiers_per_working_day"),
    ],
)
def test_bad_values_name_their_key(changes, key):
    with pytest.raises(ScenarioError) as error:
        scenario(**changes)
    message = str(error.value)
    assert key in message
    assert "\n" not in message


def test_demand_needs_a_source():
    with pytest.raises(ScenarioError, match="national.dossiers_per_working_day"):
        scenario(behaviour__demand={"factor": 1})


def test_unknown_scenario_names_the_option():
    with pytest.raises(ScenarioError, match="--scenario: unknown scenario 'nowhere'"):
        load_scenario("nowhere")


def test_period_can_be_narrowed_but_not_reversed():
    s = scenario()
    assert s.with_period(date(2025, 7, 3), None).start == date(2025, 7, 3)
    with pytest.raises(ScenarioError, match="--to"):
        s.with_period(None, date(2025, 6, 1))


def test_every_parameter_is_documented_with_a_unit():
    for section in SCHEMA.values():
        for name, param in section.params.items():
            assert param.unit and param.doc, name
    text = describe()
    for section in SCHEMA.values():
        for name in section.params:
            assert f"`{name}`" in text


def test_the_parameter_reference_in_docs_is_current():
    from simulator.docs import DOC, document

    assert DOC.read_text(encoding="utf-8") == document(), (
        "docs/simulator.md is stale: python manage.py simulate --describe --write-docs"
    )
