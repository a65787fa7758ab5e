"""Every scenario parameter: its kind, unit, default and meaning.

A scenario (``simulator/scenarios/*.yaml``) gives values for some of these; the rest take the
defaults below. ``behaviour`` holds the defaults of every province and ``overrides.<code>``
changes some of them for one province. Leaves marked *by level* take either one value or
``{province: x, commune: y}`` (the provincial centre and the commune centres); leaves marked
*schedule* take either one value or ``{<date>: value, ...}``: the value in force from each date
on (before the first date, the first value). ``docs/simulator.md`` lists the same table,
generated from this module (``python manage.py simulate --describe``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Param:
    kind: str  # share | nonneg | int | date | weights6 | factors12 | mix
    unit: str
    default: Any = None
    doc: str = ""
    by_level: bool = False
    schedule: bool = False
    optional: bool = False  # ``None`` allowed (then another parameter decides)


@dataclass(frozen=True)
class Section:
    doc: str
    params: dict[str, Param] = field(default_factory=dict)


# Commune and provincial procedure mixes: relative weights by national procedure code. Civil
# status, residence and certification dominate commune desks; land, business registration,
# driving licences and criminal records dominate the provincial centre.
DEFAULT_COMMUNE_MIX = {
    "1.001193": 9, "1.000894": 2.5, "1.000656": 3, "1.004873": 6, "2.000635": 7,
    "1.004884": 0.6, "1.001022": 0.5, "1.004859": 2, "1.004837": 0.2, "2.000986": 2,
    "2.000815": 16, "2.000884": 5, "2.001019": 0.3, "1.004222": 3, "1.004194": 2.5,
    "1.002755": 0.8, "1.003197": 1, "1.003677": 0.8, "1.010038": 0.8, "1.010041": 3,
    "2.001159": 3, "1.014063": 2, "1.014064": 1, "3.000228": 2, "1.001612": 1.2,
    "2.000720": 0.6, "1.001570": 0.3, "1.001266": 0.3, "1.013225": 1.2, "1.013227": 0.2,
    "1.013978": 2, "1.012812": 0.3, "1.001776": 1.5, "1.014027": 1, "1.001731": 0.4,
    "1.001699": 0.4, "1.011607": 0.5, "1.010803": 0.3, "1.013076": 1.5,
}  # fmt: skip
DEFAULT_PROVINCE_MIX = {
    "3.000333": 14, "2.001583": 5, "2.001610": 1, "2.002043": 2, "3.000347": 12,
    "3.000348": 4, "1.001456": 10, "1.013831": 22, "1.012783": 6, "1.012784": 8,
    "1.013236": 2, "1.014748": 8, "1.001029": 0.5, "2.000117": 1.5,
}  # fmt: skip

SCHEMA: dict[str, Section] = {
    "demand": Section(
        "How many dossiers arrive, where and when.",
        {
            "dossiers_per_working_day": Param(
                "nonneg",
                "dossiers per ordinary working day",
                None,
                schedule=True,
                optional=True,
                doc="Dossiers the whole province (provincial centre + communes) receives on an "
                "ordinary working day at scale 1. When absent: the scenario's "
                "national.dossiers_per_working_day × the province's population share × factor.",
            ),
            "factor": Param(
                "nonneg",
                "multiplier",
                1.0,
                schedule=True,
                doc="Multiplier on the population-share demand (how much more or less the "
                "province uses public services than its population suggests).",
            ),
            "province_level_share": Param(
                "share",
                "share of dossiers",
                0.06,
                schedule=True,
                doc="Share of the province's dossiers filed at the provincial centre "
                "(the rest go to commune centres).",
            ),
            "weekday_weights": Param(
                "weights6",
                "relative weight, Monday … Saturday",
                [1.15, 1.05, 1.0, 1.0, 0.9, 0.6],
                doc="Demand on each weekday relative to an ordinary day (Saturday applies only "
                "to worked Saturdays).",
            ),
            "monthly_factors": Param(
                "factors12",
                "multiplier, January … December",
                [1.1, 0.8, 1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1],
                doc="Seasonal shape of demand by month.",
            ),
            "tet_factor": Param(
                "nonneg",
                "multiplier",
                0.6,
                doc="Demand on the working days just before and after the Tết holiday, relative "
                "to an ordinary day.",
            ),
            "tet_days": Param(
                "int",
                "working days",
                5,
                doc="How many working days before and after the Tết holiday the slowdown lasts.",
            ),
            "non_working_day_online_factor": Param(
                "nonneg",
                "multiplier",
                0.12,
                doc="Online submissions on a weekend or holiday, relative to an ordinary "
                "working day's online submissions (desks are closed).",
            ),
            "ward_factor": Param(
                "nonneg",
                "multiplier",
                1.5,
                doc="Demand of a ward (phường) or special zone relative to a rural commune (xã).",
            ),
            "commune_dispersion": Param(
                "nonneg",
                "σ of log-normal",
                0.35,
                doc="Spread of demand between communes of the same kind (0: all equal).",
            ),
            "morning_share": Param(
                "share",
                "share of desk visits",
                0.6,
                doc="Share of walk-in dossiers received in the morning office period.",
            ),
        },
    ),
    "procedures": Section(
        "Which procedures citizens file (relative weights by national procedure code).",
        {
            "commune": Param(
                "mix",
                "relative weight by procedure code",
                DEFAULT_COMMUNE_MIX,
                doc="Mix of commune-level procedures at commune centres.",
            ),
            "province": Param(
                "mix",
                "relative weight by procedure code",
                DEFAULT_PROVINCE_MIX,
                doc="Mix of provincial procedures at the provincial centre.",
            ),
        },
    ),
    "channels": Section(
        "How dossiers are submitted.",
        {
            "online_share": Param(
                "share",
                "share of dossiers received",
                {"province": 0.7, "commune": 0.4},
                by_level=True,
                schedule=True,
                doc="Share of dossiers submitted online (partly or fully online). Procedures "
                "without an online service are never online, so the others are online more "
                "often to reach this share (capped at all of them).",
            ),
            "postal_share": Param(
                "share",
                "share of offline dossiers",
                0.01,
                doc="Share of the offline dossiers that arrive by public postal service.",
            ),
        },
    ),
    "staff": Section(
        "How the desks and handling officers behave.",
        {
            "accept_delay_hours": Param(
                "nonneg",
                "working hours (mean)",
                3.0,
                schedule=True,
                doc="Mean working time between an online submission and its acceptance "
                "(exponential).",
            ),
            "refuse_share": Param(
                "share",
                "share of online submissions",
                0.02,
                schedule=True,
                doc="Online submissions refused at reception (incomplete, not competent).",
            ),
            "withdraw_before_accept_share": Param(
                "share",
                "share of online submissions",
                0.005,
                doc="Online submissions withdrawn by the citizen before the desk decides.",
            ),
            "start_processing_share": Param(
                "share",
                "share of accepted dossiers",
                0.9,
                doc="Dossiers whose handler records 'start processing' (the others go straight "
                "from accepted to processed).",
            ),
            "early_share": Param(
                "share",
                "share of finished dossiers",
                {"province": 0.7, "commune": 0.7},
                by_level=True,
                schedule=True,
                doc="Dossiers finished on a calendar day before their due day (where the due day "
                "leaves room; otherwise they finish on the due day).",
            ),
            "late_share": Param(
                "share",
                "share of finished dossiers",
                {"province": 0.03, "commune": 0.03},
                by_level=True,
                schedule=True,
                doc="Dossiers finished after their due time; the rest finish on the due day.",
            ),
            "late_mean_days": Param(
                "nonneg",
                "working days (mean)",
                3.0,
                schedule=True,
                doc="How late a late dossier is finished (exponential), also how long an "
                "overdue dossier stays open.",
            ),
            "early_position": Param(
                "share",
                "share of the time to the due day (mean)",
                {"province": 0.5, "commune": 0.5},
                by_level=True,
                schedule=True,
                doc="Where in the working time between acceptance and the end of the day before "
                "the due day an early dossier is finished, on average (0: at once, 1: at the "
                "last moment); Beta-distributed.",
            ),
            "supplement_share": Param(
                "share",
                "share of accepted dossiers",
                0.03,
                schedule=True,
                doc="Dossiers for which the handler requests a supplement.",
            ),
            "supplement_response_days": Param(
                "nonneg",
                "working days (mean)",
                3.0,
                doc="How long the citizen takes to supplement (exponential); the clock pauses.",
            ),
            "supplement_abandon_share": Param(
                "share",
                "share of supplement requests",
                0.15,
                doc="Supplement requests the citizen never answers.",
            ),
            "second_supplement_share": Param(
                "share",
                "share of supplemented dossiers",
                0.05,
                doc="Supplemented dossiers that get a second request (late in the index).",
            ),
            "apology_share": Param(
                "share",
                "share of late dossiers",
                0.5,
                schedule=True,
                doc="Late dossiers for which the handler issues an apology slip at least one "
                "working day before the due time (when there is still time to).",
            ),
            "apology_extension_days": Param(
                "nonneg",
                "working days (mean)",
                5.0,
                doc="How much later the apology slip's new return date is (at least one day).",
            ),
            "stop_share": Param(
                "share",
                "share of accepted dossiers",
                0.005,
                doc="Dossiers stopped (refused after acceptance) by the handler.",
            ),
            "withdraw_share": Param(
                "share",
                "share of accepted dossiers",
                0.003,
                doc="Dossiers withdrawn by the citizen after acceptance.",
            ),
            "return_delay_days": Param(
                "nonneg",
                "working days (mean)",
                0.5,
                doc="Time from result ready to result handed over (exponential).",
            ),
        },
    ),
    "payments": Section(
        "Fees and how they are paid.",
        {
            "online_payment_share": Param(
                "share",
                "share of fee-bearing dossiers",
                {"province": 0.8, "commune": 0.6},
                by_level=True,
                schedule=True,
                doc="Fee-bearing dossiers paid online (payment gateway, also by QR code at the "
                "desk); the rest pay cash at the desk. Every dossier of a procedure with a fee "
                "is fee-bearing and is paid before its result. Online dossiers pay online "
                "first; desk dossiers make up the rest of the share.",
            ),
            "requested_share": Param(
                "share",
                "share of fee-bearing dossiers",
                0.2,
                schedule=True,
                doc="Fee-bearing dossiers whose fee is requested during processing (state 6) "
                "rather than paid at submission or at the desk.",
            ),
            "payment_delay_hours": Param(
                "nonneg",
                "working hours (mean)",
                4.0,
                doc="Time between a payment request and the payment (exponential).",
            ),
        },
    ),
    "digitisation": Section(
        "Digitised documents, electronic results and data re-use.",
        {
            "digitised_share": Param(
                "share",
                "share of dossiers received",
                {"province": 0.9, "commune": 0.8},
                by_level=True,
                schedule=True,
                doc="Dossiers whose input documents are digitised at intake (online dossiers "
                "are digital by nature and always count).",
            ),
            "electronic_result_share": Param(
                "share",
                "share of finished dossiers",
                {"province": 0.8, "commune": 0.7},
                by_level=True,
                schedule=True,
                doc="Finished dossiers whose result is issued as an electronic document.",
            ),
            "reused_data_share": Param(
                "share",
                "share of dossiers received",
                0.3,
                schedule=True,
                doc="Dossiers re-using a previously digitised document.",
            ),
            "population_data_share": Param(
                "share",
                "share of dossiers received",
                0.5,
                schedule=True,
                doc="Dossiers checked against the national population database.",
            ),
            "personal_storage_share": Param(
                "share",
                "share of dossiers received",
                0.3,
                schedule=True,
                doc="Dossiers taking a document from, or pushing the result to, the citizen's "
                "personal data store.",
            ),
            "synced_share": Param(
                "share",
                "share of dossiers",
                0.95,
                schedule=True,
                doc="Dossiers whose status is synchronised to the national portal in real time.",
            ),
        },
    ),
    "ratings": Section(
        "Citizens' ratings of handled dossiers.",
        {
            "rated_share": Param(
                "share",
                "share of returned dossiers",
                0.3,
                doc="Dossiers whose citizen rates the service after the result.",
            ),
            "satisfied_share": Param(
                "share",
                "share of ratings",
                0.97,
                schedule=True,
                doc="Ratings 'satisfied' for dossiers finished on time.",
            ),
            "satisfied_share_late": Param(
                "share",
                "share of ratings",
                0.6,
                doc="Ratings 'satisfied' for dossiers finished late.",
            ),
            "delay_days": Param(
                "nonneg",
                "working days (mean)",
                1.0,
                doc="Time from the result to the rating (exponential).",
            ),
        },
    ),
    "petitions": Section(
        "Petitions (phản ánh, kiến nghị), due in 15 working days.",
        {
            "per_1000_dossiers": Param(
                "nonneg",
                "petitions per 1,000 dossiers",
                0.5,
                doc="How often citizens file a petition, relative to the dossiers received.",
            ),
            "province_share": Param(
                "share",
                "share of petitions",
                0.7,
                doc="Petitions filed with the provincial centre (most are).",
            ),
            "answer_days": Param(
                "nonneg",
                "working days (mean)",
                6.0,
                doc="Time to answer a petition (exponential).",
            ),
            "rated_share": Param(
                "share",
                "share of answered petitions",
                0.5,
                doc="Answered petitions whose citizen rates the answer.",
            ),
            "satisfied_share": Param(
                "share", "share of ratings", 0.85, doc="Ratings of answers that are 'satisfied'."
            ),
            "repeated_share": Param(
                "share",
                "share of answered petitions",
                0.0,
                doc="Answered petitions whose citizen raises them again because the answer did "
                "not settle the matter (a few working days after the answer).",
            ),
            "about_dossier_share": Param(
                "share",
                "share of petitions",
                0.5,
                doc="Petitions about one of the citizen's dossiers at that centre (the others "
                "are about the centre or an officer in general).",
            ),
        },
    ),
    "catalogue": Section(
        "Facts about the province's procedure catalogue (transparency and online groups).",
        {
            "effective_date": Param(
                "date",
                "date",
                date(2025, 7, 1),
                doc="When the province's republished procedure catalogue took effect (the July "
                "2025 reform); its publication decisions are dated before it.",
            ),
            "publish_on_time_share": Param(
                "share",
                "share of procedures",
                0.9,
                doc="Procedures whose publication decision was issued at least 5 working days "
                "before the legal basis took effect.",
            ),
            "public_update_on_time_share": Param(
                "share",
                "share of procedures",
                0.9,
                doc="Procedures made public on the national database within 5 working days of "
                "their publication decision.",
            ),
            "public_content_full_share": Param(
                "share",
                "share of procedures",
                0.95,
                doc="Public procedures with every mandatory component.",
            ),
            "online_offer_share": Param(
                "share",
                "share of procedures with an online service",
                {"province": 0.9, "commune": 0.9},
                by_level=True,
                doc="Of the procedures that have an online service nationally, the share the "
                "province lists in its online catalogue (the most demanded first).",
            ),
            "online_used_share": Param(
                "share",
                "share of listed online services",
                {"province": 1.0, "commune": 1.0},
                by_level=True,
                doc="Of the services listed online, the share citizens actually use online (the "
                "most demanded first); the others receive no online dossier.",
            ),
            "certified_copy_share": Param(
                "share",
                "share of communes",
                1.0,
                doc="Communes offering electronic certified copies.",
            ),
        },
    ),
    "carried_over": Section(
        "The stock of open dossiers at the start of the period.",
        {
            "warmup_days": Param(
                "int",
                "calendar days",
                30,
                doc="Dossiers are also generated for this many days before the start (same "
                "behaviour as the start), so the stock carried over into the period is the one "
                "such demand leaves open.",
            ),
        },
    ),
    "citizens": Section(
        "The citizens who file the dossiers.",
        {
            "dossiers_per_citizen": Param(
                "nonneg",
                "dossiers per citizen",
                2.5,
                doc="Mean dossiers filed per simulated citizen over the run (sets how many "
                "citizens are generated per province).",
            ),
        },
    ),
}

TOP_LEVEL = {
    "name": "scenario name (the file name without .yaml)",
    "description": "what the scenario is for",
    "period": "start and end dates of the simulated history (inclusive)",
    "provinces": "'all' or a list of province codes",
    "national": "dossiers_per_working_day: national demand on an ordinary working day",
    "index": "methodology, window (ytd, quarter, month) and why: which published index the "
    "scenario reproduces; snapshot_days: index snapshots for the last N days only",
    "behaviour": "defaults for every province (sections below)",
    "overrides": "per province code, values replacing the defaults",
}


def describe() -> str:
    """The parameter table as Markdown (docs/simulator.md)."""
    lines = [
        "# Simulator scenario parameters",
        "",
        "Generated from `simulator/schema.py` by `python manage.py simulate --describe`.",
        "",
        "Top level: " + "; ".join(f"`{k}`: {v}" for k, v in TOP_LEVEL.items()) + ".",
        "",
        "Values under `behaviour` apply to every province; `overrides.<code>` replaces some of "
        "them for one province. *By level*: one value or `{province: x, commune: y}`. "
        "*Schedule*: one value or `{<date>: value, ...}` (the value in force from each date).",
        "",
    ]
    for name, section in SCHEMA.items():
        lines += [f"## `{name}` — {section.doc}", ""]
        lines += ["| parameter | unit | default | meaning |", "|---|---|---|---|"]
        for key, p in section.params.items():
            tags = [t for t, on in (("by level", p.by_level), ("schedule", p.schedule)) if on]
            default = "—" if p.default is None else p.default
            if p.kind == "mix":
                default = f"{len(p.default)} procedures"
            unit = p.unit + (f" ({', '.join(tags)})" if tags else "")
            lines.append(f"| `{key}` | {unit} | {default} | {p.doc} |")
        lines.append("")
    return "\n".join(lines)
