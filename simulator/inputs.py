"""The index inputs that do not come from dossiers, set from a scenario's ``catalogue``
parameters through ``scoring.services``: each province's publication of its procedure
catalogue (transparency group), the procedures its centres list online (online group) and the
communes offering electronic certified copies. Shares become exact counts (the first
``round(share × n)`` of a seeded shuffle), so a scenario's figures do not drift with the seed."""

from __future__ import annotations

import random
from datetime import date, timedelta

from portal.calendar import working_calendar
from simulator.clock import Clock
from simulator.generate import Generator, derived_seed
from simulator.scenario import Scenario, procedure_levels
from simulator.world import load_world


def exact_subset(items: list, share: float, rng: random.Random) -> set:
    """``round(share × len(items))`` of ``items``, chosen by a seeded shuffle."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    return set(shuffled[: round(share * len(items))])


def publication_rows(p: dict, *, seed: int, province: str, calendar) -> list[dict]:
    """One publication per procedure of the catalogue republished for ``effective_date``:
    on-time decisions come 5–12 working days before it, late ones 0–4; on-time publicity
    1–5 working days after the decision, late 6–15."""
    rng = random.Random(derived_seed(seed, province, "publications"))
    codes = sorted(procedure_levels())
    effective = p["catalogue.effective_date"]
    on_time = exact_subset(codes, p["catalogue.publish_on_time_share"], rng)
    public_on_time = exact_subset(codes, p["catalogue.public_update_on_time_share"], rng)
    complete = exact_subset(codes, p["catalogue.public_content_full_share"], rng)
    rows = []
    for code in codes:
        notice = rng.randint(5, 12) if code in on_time else rng.randint(0, 4)
        decision = working_days_before(effective, notice, calendar)
        delay = rng.randint(1, 5) if code in public_on_time else rng.randint(6, 15)
        rows.append(
            {
                "procedure": code,
                "decision_date": decision,
                "effective_date": effective,
                "public_date": working_days_after(decision, delay, calendar),
                "components_complete": code in complete,
            }
        )
    return rows


def index_inputs_apply(
    scenario: Scenario, *, seed: int, scale: float, available_from: date
) -> list[str]:
    try:
        from scoring import services as scoring
    except ImportError:
        return ["Index inputs not set: the scoring app has no services yet."]
    from portal.models import ServiceCenter

    calendar = working_calendar()
    world = load_world(scenario.provinces, Clock(calendar))
    gen = Generator(scenario=scenario, world=world, seed=seed, scale=scale, end=scenario.end)
    publications = services = copies = 0
    for province in scenario.provinces:
        model = gen.model(province)
        p = model.behaviour.on(scenario.end)
        rows = publication_rows(p, seed=seed, province=province, calendar=calendar)
        publications += scoring.publication_facts_set(province=province, rows=rows)
        centres = list(
            ServiceCenter.objects.filter(province_id=province).values_list("code", flat=True)
        )
        services += scoring.online_catalogue_set(
            centers=centres,
            procedures=sorted(model.offered),
            available_from=available_from,
            replace=True,
        )
        communes = sorted(c.code[1:] for c in model.communes)
        rng = random.Random(derived_seed(seed, province, "copies"))
        chosen = sorted(exact_subset(communes, p["catalogue.certified_copy_share"], rng))
        scoring.certified_copy_set(communes=communes, available_from=available_from, offered=False)
        if chosen:
            copies += scoring.certified_copy_set(communes=chosen, available_from=available_from)
    return [
        f"Index inputs: {publications:,} procedure publications, {services:,} online services, "
        f"{copies:,} communes with electronic certified copies."
    ]


def working_days_before(day: date, n: int, calendar) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def working_days_after(day: date, n: int, calendar) -> date:
    for _ in range(n):
        day = calendar.next_working_day(day)
    return day
