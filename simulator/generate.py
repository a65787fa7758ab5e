"""Generating one province's day: who comes, for what, through which channel, and what then
happens to each dossier until the end of the simulated period.

Every (province, day) has its own random streams, seeded from (seed, province, day): the rows
do not depend on the order in which days or provinces are processed, nor on how many workers
share them. A day's dossiers carry their whole future up to the horizon (the end of the
period): a backfill knows what staff and citizens will do, so each dossier is generated once,
its history complete, and never revisited.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from simulator.clock import DAY, Clock, local_minute
from simulator.lifecycle import S_ACCEPTED, S_IN_PROCESS, WORKING_DAY, SimDossier
from simulator.scenario import Scenario
from simulator.world import Centre, Version, World

# What staff write in the notes (the services require a reason for these actions).
REFUSE_REASONS = (
    "Hồ sơ chưa đầy đủ thành phần theo quy định",
    "Không thuộc thẩm quyền giải quyết của cơ quan",
)
SUPPLEMENT_REASONS = (
    "Đề nghị bổ sung bản sao giấy tờ còn thiếu",
    "Thông tin trong tờ khai chưa chính xác, đề nghị bổ sung",
)
SUPPLEMENT_DOCUMENT = "Giấy tờ bổ sung theo yêu cầu"
APOLOGY_REASON = "Cần xác minh thêm thông tin với cơ quan liên quan"
STOP_REASON = "Hồ sơ không đủ điều kiện giải quyết theo quy định"
WITHDRAW_REASON = "Công dân đề nghị rút hồ sơ"
PETITION_SUBJECTS = (
    ("Phản ánh về thời gian giải quyết hồ sơ", "Hồ sơ của tôi chưa được giải quyết đúng hẹn."),
    ("Kiến nghị về thái độ phục vụ", "Đề nghị cán bộ hướng dẫn rõ ràng hơn khi tiếp nhận."),
    ("Phản ánh về thủ tục trực tuyến", "Tôi gặp khó khăn khi nộp hồ sơ trực tuyến."),
)
PETITION_ANSWER = "Trung tâm đã tiếp thu, kiểm tra và trả lời công dân theo quy định."
# When citizens file online, by hour of the day (relative weights).
ONLINE_HOURS = (
    0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.2, 2.4, 2.3, 1.8,
    1.2, 1.4, 2.0, 2.2, 2.0, 1.6, 1.2, 1.3, 1.5, 1.3, 0.9, 0.5,
)  # fmt: skip
EARLY_CONCENTRATION = 4.0  # Beta(a, b) with a + b = 4: a broad hump around the mean position
ONLINE_HOUR_CUM = [sum(ONLINE_HOURS[: i + 1]) for i in range(24)]


def derived_seed(*parts) -> int:
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def expo(rng: random.Random, mean: float) -> float:
    return rng.expovariate(1.0 / mean) if mean > 0 else 0.0


@dataclass
class SimPetition:
    """A petition and its history, as ``petition_file`` / ``_answer`` / ``_rate`` / ``_repeat``
    make them."""

    index: int
    code: str
    center_id: int
    citizen_id: int
    dossier: SimDossier | None
    subject: str
    body: str
    received_at: int
    due_at: int
    status: str = "received"
    answered_at: int | None = None
    answer: str = ""
    satisfied: bool | None = None
    repeated: bool = False
    events: list = field(default_factory=list)  # (from_status, to_status, actor, at, note)


@dataclass
class DayBatch:
    province: str
    day: date
    dossiers: list[SimDossier]
    petitions: list[SimPetition]
    counters: list[tuple[int, str, date, int]]  # (centre id, series, day, last number)
    citizens_used: int = 0


@dataclass
class LevelPlan:
    """A province's procedure mix at one level, resolved against the catalogue."""

    codes: list[str]
    cum: list[float]
    online_codes: list[str]
    online_cum: list[float]
    online_weight: float  # share of the mix's weight used online
    online_fee_weight: float  # share of the fee-bearing weight used online


class ProvinceModel:
    """What stays the same for a province over the run: its centres' demand weights, the
    procedures it offers online, its mixes. Built from (seed, province) alone."""

    def __init__(self, gen: Generator, province: str):
        self.province = province
        world, scenario = gen.world, gen.scenario
        self.behaviour = scenario.behaviour[province]
        centres = world.centres[province]
        self.provincial = [c for c in centres if c.level == "province"]
        self.communes = [c for c in centres if c.level == "commune"]
        rng = random.Random(derived_seed(gen.seed, province, "communes"))
        weights = []
        for c in self.communes:
            w = self.behaviour.get("demand", "ward_factor") if c.kind != "xa" else 1.0
            sigma = self.behaviour.get("demand", "commune_dispersion")
            weights.append(w * math.exp(rng.gauss(-sigma * sigma / 2, sigma)) if sigma else w)
        total = sum(weights) or 1.0
        self.commune_weights = [w / total for w in weights]
        self.offered, self.used = self._catalogue(world)
        self.plans = {
            level: self._plan(world, self.behaviour.get("procedures", level))
            for level in ("province", "commune")
        }

    def _catalogue(self, world: World) -> tuple[set[str], set[str]]:
        """Which procedures of each level the province lists online
        (``catalogue.online_offer_share`` of those with an online service nationally) and which
        of those citizens actually use online (``catalogue.online_used_share``): the most
        demanded ones first, exact counts."""
        offered: set[str] = set()
        used: set[str] = set()
        offer_share = self.behaviour.get("catalogue", "online_offer_share")
        used_share = self.behaviour.get("catalogue", "online_used_share")
        for level in ("province", "commune"):
            mix = self.behaviour.get("procedures", level)
            capable = sorted(
                (
                    code
                    for code, vs in world.versions.items()
                    if vs[-1].level == level and vs[-1].online_level != "none"
                ),
                key=lambda code: (-mix.get(code, 0.0), code),
            )
            listed = capable[: round(offer_share[level] * len(capable))]
            offered.update(listed)
            used.update(listed[: round(used_share[level] * len(listed))])
        return offered, used

    def _plan(self, world: World, mix: dict[str, float]) -> LevelPlan:
        # In code order: the draws do not depend on how the scenario file lists its mix.
        codes = sorted(c for c in mix if mix[c] > 0 and c in world.versions)
        total = sum(mix[c] for c in codes)
        online = [c for c in codes if c in self.used]
        fee = [c for c in codes if world.versions[c][-1].fee_vnd]
        online_fee = [c for c in fee if c in self.used]
        cum, acc = [], 0.0
        for c in codes:
            acc += mix[c]
            cum.append(acc)
        ocum, oacc = [], 0.0
        for c in online:
            oacc += mix[c]
            ocum.append(oacc)
        fee_total = sum(mix[c] for c in fee)
        return LevelPlan(
            codes=codes,
            cum=cum,
            online_codes=online,
            online_cum=ocum,
            online_weight=oacc / total if total else 0.0,
            online_fee_weight=(sum(mix[c] for c in online_fee) / fee_total) if fee_total else 0.0,
        )


class Generator:
    def __init__(self, *, scenario: Scenario, world: World, seed: int, scale: float, end: date):
        self.scenario = scenario
        self.world = world
        self.seed = seed
        self.scale = scale
        self.clock: Clock = world.clock
        self.horizon = local_minute(end + timedelta(days=1)) - 1  # 23:59 of the last day
        self.models: dict[str, ProvinceModel] = {}
        self._tet: dict[int, frozenset[date]] = {}
        from django.utils.translation import gettext

        # The note ``petition_rate`` writes, in the language active for the run.
        self.petition_notes = (gettext("satisfied"), gettext("not satisfied"))
        self.repeat_note = gettext("raised again")  # ``petition_repeat``'s

    def model(self, province: str) -> ProvinceModel:
        m = self.models.get(province)
        if m is None:
            m = self.models[province] = ProvinceModel(self, province)
        return m

    # -- demand -------------------------------------------------------------------------------
    def tet_days(self, year: int, span: int) -> frozenset[date]:
        """Working days within ``span`` working days of the year's Tết holiday."""
        key = year * 100 + span
        if key not in self._tet:
            cal = self.clock.calendar
            block = sorted(d for d in cal.days_off if date(year, 1, 15) <= d <= date(year, 3, 1))
            days: set[date] = set()
            if block:
                before, after = block[0], block[-1]
                for direction, start in ((-1, before), (1, after)):
                    d, found = start, 0
                    while found < span:
                        d += timedelta(days=direction)
                        if cal.is_working_day(d):
                            days.add(d)
                            found += 1
            self._tet[key] = frozenset(days)
        return self._tet[key]

    def expected(self, province: str, day: date) -> tuple[float, bool]:
        """(expected dossiers at this scale, working day?) for the day; on a day off only
        online dossiers come, so the caller applies the online share."""
        model = self.model(province)
        p = model.behaviour.on(day)
        base = self.scenario.demand_per_day(province, day) * self.scale
        working = self.clock.is_working_day(local_minute(day) // DAY)
        month = p["demand.monthly_factors"][day.month - 1]
        if working:
            weekday = p["demand.weekday_weights"][min(day.weekday(), 5)]
            tet = (
                p["demand.tet_factor"]
                if day in self.tet_days(day.year, p["demand.tet_days"])
                else 1.0
            )
            return base * weekday * month * tet, True
        return base * month * p["demand.non_working_day_online_factor"], False

    # -- a province's day ---------------------------------------------------------------------
    def province_day(self, province: str, day: date) -> DayBatch:
        model = self.model(province)
        p = model.behaviour.on(day)
        rng = random.Random(derived_seed(self.seed, province, day.isoformat()))
        np_rng = np.random.default_rng(derived_seed(self.seed, province, day.isoformat(), "n"))
        total, working = self.expected(province, day)
        share_p = p["demand.province_level_share"]
        online_share = p["channels.online_share"]
        lambdas = []
        for _c in model.provincial:
            lam = total * share_p
            lambdas.append(lam if working else lam * online_share["province"])
        for _c, w in zip(model.communes, model.commune_weights):
            lam = total * (1 - share_p) * w
            lambdas.append(lam if working else lam * online_share["commune"])
        counts = np_rng.poisson(lambdas) if lambdas else []
        centres = model.provincial + model.communes
        citizens = self.world.citizens.get(province) or []
        dossiers: list[SimDossier] = []
        counters = []
        for centre, n in zip(centres, counts):
            if not n:
                continue
            made = [self._dossier(model, p, centre, day, working, rng, citizens) for _ in range(n)]
            made = [d for d in made if d is not None]
            made.sort(key=lambda d: d.submitted_at)  # numbered in the order of creation
            for number, d in enumerate(made, start=1):
                d.code = f"{centre.code}-{day:%y%m%d}-{number:04d}"
            if made:
                counters.append((centre.id, "D", day, len(made)))
                dossiers.extend(made)
        for i, d in enumerate(dossiers):
            d.index = i
        petitions = self._petitions(model, p, day, rng, np_rng, dossiers, citizens, counters)
        return DayBatch(province, day, dossiers, petitions, counters)

    def _dossier(self, model, p, centre: Centre, day, working, rng, citizens):
        level = centre.level
        plan = model.plans[level]
        online_share = p["channels.online_share"][level]
        if working:
            # random.choices with cum_weights, without its per-call overhead (same draws)
            code = plan.codes[
                bisect_right(plan.cum, rng.random() * plan.cum[-1], 0, len(plan.cum) - 1)
            ]
            can_online = code in model.used
            # Online more often where the service exists, so that the level reaches its share.
            q = min(1.0, online_share / plan.online_weight) if plan.online_weight else 0.0
            online = can_online and rng.random() < q
        else:
            if not plan.online_codes:
                return None
            cum = plan.online_cum
            code = plan.online_codes[bisect_right(cum, rng.random() * cum[-1], 0, len(cum) - 1)]
            online = True
        version = self.world.version_on(code, day)
        if version is None or not citizens:
            return None
        if online:
            channel = 2
        else:
            channel = 3 if rng.random() < p["channels.postal_share"] else 1
        d = SimDossier(
            clock=self.clock,
            center_id=centre.id,
            version=version,
            applicant_id=citizens[rng.randrange(len(citizens))],
            channel=channel,
        )
        self._live(d, p, centre, version, day, rng, model.plans[level])
        return d

    # -- a dossier's life ---------------------------------------------------------------------
    def _submission_minute(self, day: date, online: bool, p, rng) -> int:
        base = local_minute(day)
        if online:
            hour = bisect_hour(rng.random() * ONLINE_HOUR_CUM[-1])
            return base + hour * 60 + rng.randrange(60)
        periods = self.clock.periods
        start, end = periods[0] if rng.random() < p["demand.morning_share"] else periods[-1]
        return base + start + rng.randrange(end - start)

    def _live(self, d: SimDossier, p, centre: Centre, version: Version, day, rng, plan) -> None:
        clock, H = self.clock, self.horizon
        level = centre.level
        desk, officer = self.world.staff[centre.id]
        online = d.channel == 2
        t_sub = self._submission_minute(day, online, p, rng)
        docs = list(version.documents) or ["Tờ khai"]
        pay_online = self._pays_online(p, level, online, plan, rng) if d.fee_vnd else False
        requested = d.fee_vnd and rng.random() < p["payments.requested_share"]
        # Flags no service sets (integration facts of the national systems): see the report.
        d.population_data = rng.random() < p["digitisation.population_data_share"]
        d.personal_storage = rng.random() < p["digitisation.personal_storage_share"]
        d.synced = rng.random() < p["digitisation.synced_share"]

        if online:
            reuse_q = min(
                1.0,
                p["digitisation.reused_data_share"] / max(p["channels.online_share"][level], 1e-9),
            )
            if len(docs) >= 2 and rng.random() < reuse_q:
                d.submit(at=t_sub, files=docs[:-1], reused=docs[-1:])
            else:
                d.submit(at=t_sub, files=docs, reused=[])
            if pay_online and not requested:
                t_pay = t_sub + 1 + rng.randrange(20)
                if t_pay > H:
                    return
                d.record_payment(at=t_pay, actor=None, channel="online", reference=_ref(rng, "NPP"))
            delay = 1 + int(expo(rng, p["staff.accept_delay_hours"] * 60))
            t_acc = clock.add(d.last_at, delay)
            u = rng.random()
            if u < p["staff.withdraw_before_accept_share"]:
                t = d.last_at + 1 + int((t_acc - d.last_at) * rng.random())
                if t <= H:
                    d.withdraw(at=t, reason=WITHDRAW_REASON)
                return
            if t_acc > H:
                return
            if u < p["staff.withdraw_before_accept_share"] + p["staff.refuse_share"]:
                d.refuse(at=t_acc, actor=desk, reason=REFUSE_REASONS[rng.randrange(2)])
                return
            d.accept(at=t_acc, actor=desk)
        else:
            digitised = rng.random() < p["digitisation.digitised_share"][level]
            d.receive(at=t_sub, actor=desk, documents=docs, digitised=digitised)
            if d.fee_vnd and not requested:
                t_pay = t_sub + 1 + rng.randrange(10)
                if t_pay > H:
                    return
                if pay_online:
                    d.record_payment(
                        at=t_pay, actor=None, channel="online", reference=_ref(rng, "NPP")
                    )
                else:
                    d.record_payment(
                        at=t_pay, actor=desk, channel="cash", reference=_ref(rng, "BL")
                    )
        self._process(d, p, level, desk, officer, pay_online, rng)

    def _pays_online(self, p, level: str, online: bool, plan: LevelPlan, rng) -> bool:
        """Online dossiers pay online first; desk dossiers make up the rest of the level's
        share (the online part of fee-bearing dossiers is known from the mix)."""
        share = p["payments.online_payment_share"][level]
        q = (
            min(1.0, p["channels.online_share"][level] / plan.online_weight)
            if plan.online_weight
            else 0.0
        )
        online_part = plan.online_fee_weight * q  # fee-bearing dossiers that come online
        if online:
            return rng.random() < (min(1.0, share / online_part) if online_part else 0.0)
        if share <= online_part or online_part >= 1:
            return False
        return rng.random() < (share - online_part) / (1 - online_part)

    def _process(self, d: SimDossier, p, level, desk, officer, pay_online, rng) -> None:
        """From acceptance to the result: supplements first (the file is checked early), then
        the outcome decides when the result is ready, and the steps in between (start of
        processing, fee request and payment, apology slip) fall before it."""
        clock, H = self.clock, self.horizon
        pos = clock.position
        u = rng.random()
        stop_share, withdraw_share = p["staff.stop_share"], p["staff.withdraw_share"]
        if u < stop_share:
            fate = "stop"
        elif u < stop_share + withdraw_share:
            fate = "withdraw"
        else:
            fate = "finish"
        wants_start = rng.random() < p["staff.start_processing_share"]

        # Supplements: the clock pauses until the citizen brings what is missing.
        if rng.random() < p["staff.supplement_share"]:
            if wants_start:
                gap = max(pos(d.due_at) - pos(d.last_at), 1)
                t = clock.instant(pos(d.last_at) + 1 + int(gap * 0.1 * rng.random()))
                if t > H:
                    return
                d.start_processing(at=t, actor=officer)
            rounds = 2 if rng.random() < p["staff.second_supplement_share"] else 1
            for _ in range(rounds):
                gap = max(pos(d.due_at) - pos(d.last_at), 1)
                t = clock.instant(pos(d.last_at) + 1 + int(gap * 0.5 * rng.random()))
                if t > H:
                    return
                reason = SUPPLEMENT_REASONS[rng.randrange(2)]
                d.request_supplement(at=t, actor=officer, reason=reason)
                if rng.random() < p["staff.supplement_abandon_share"]:
                    return  # the citizen never comes back
                wait = 1 + int(expo(rng, p["staff.supplement_response_days"] * WORKING_DAY))
                t = clock.add(d.last_at, wait)
                if t > H:
                    return
                d.supplement(at=t, actor=d.applicant_id, documents=[SUPPLEMENT_DOCUMENT])

        if fate == "withdraw":
            t = d.last_at + 1 + int(expo(rng, 2 * DAY))
            if t <= H:
                d.withdraw(at=t, reason=WITHDRAW_REASON)
            return

        due_pos = pos(d.due_at)
        last_pos = pos(d.last_at)
        if fate == "stop":
            t = clock.instant(last_pos + 1 + int(max(due_pos - last_pos, 1) * rng.random()))
            if t <= H:
                d.stop(at=t, actor=officer, reason=STOP_REASON)
            return

        # When the result is ready.
        early, late = p["staff.early_share"][level], p["staff.late_share"][level]
        u = rng.random()
        outcome = "early" if u < early else "late" if u > 1 - late else "on_time"
        day_start_pos = pos(clock.day_start(d.due_at // DAY))  # end of the previous working day
        if outcome == "early" and day_start_pos <= last_pos + 1:
            outcome = "on_time"
        if outcome == "on_time" and due_pos <= max(last_pos, day_start_pos) + 1:
            outcome = "late"
        if outcome == "early":
            room = day_start_pos - last_pos
            mean = min(max(p["staff.early_position"][level], 0.01), 0.99)
            fraction = rng.betavariate(EARLY_CONCENTRATION * mean, EARLY_CONCENTRATION * (1 - mean))
            finish_pos = last_pos + 2 + int((room - 2) * fraction)
        elif outcome == "on_time":
            low = max(last_pos, day_start_pos)
            finish_pos = low + 2 + int((due_pos - low - 2) * rng.random())
        else:
            lateness = 1 + int(expo(rng, p["staff.late_mean_days"] * WORKING_DAY))
            finish_pos = max(due_pos, last_pos) + lateness

        # The steps before it: start of processing, the fee (state 6 is entered from 4).
        needs_payment = d.payment_status == "due"
        steps = []
        span = finish_pos - last_pos - 1
        at = last_pos + 1 + int(span * 0.3 * rng.random())
        if d.state == S_ACCEPTED and (wants_start or needs_payment):
            steps.append((at, 0, "start"))
        if needs_payment:
            request = at + int((finish_pos - at) * 0.5 * rng.random())
            delay = int(expo(rng, p["payments.payment_delay_hours"] * 60))
            paid = min(request + delay, finish_pos)
            steps += [(request, 2, "request"), (paid, 3, "pay")]
        if outcome == "late" and rng.random() < p["staff.apology_share"]:
            apology = due_pos - WORKING_DAY - rng.randrange(WORKING_DAY)
            if apology > last_pos:
                steps.append((apology, 1, "apology"))
        steps.sort()
        for step_pos, _, step in steps:
            t = max(clock.instant(step_pos), d.last_at)
            if t > H:
                return
            if step == "start":
                d.start_processing(at=t, actor=officer)
            elif step == "request":
                d.request_payment(at=t, actor=officer)
            elif step == "pay":
                if pay_online:
                    d.record_payment(at=t, actor=None, channel="online", reference=_ref(rng, "NPP"))
                else:
                    d.record_payment(at=t, actor=desk, channel="cash", reference=_ref(rng, "BL"))
            elif d.state in (S_ACCEPTED, S_IN_PROCESS) and due_pos - pos(t) >= WORKING_DAY:
                extension = max(1, round(p["staff.apology_extension_days"] + rng.gauss(0, 1)))
                new_due = clock.instant(pos(d.effective_due_at) + extension * WORKING_DAY)
                d.issue_apology(at=t, actor=officer, reason=APOLOGY_REASON, new_due_at=new_due)

        t_finish = max(clock.instant(finish_pos), d.last_at)
        if t_finish > H:
            return
        d.finish(
            at=t_finish,
            actor=officer,
            electronic_result=rng.random() < p["digitisation.electronic_result_share"][level],
        )
        t = clock.instant(
            pos(t_finish) + 1 + int(expo(rng, p["staff.return_delay_days"] * WORKING_DAY))
        )
        if t > H:
            return
        d.return_result(at=t, actor=desk)
        if rng.random() < p["ratings.rated_share"]:
            t += 1 + int(expo(rng, p["ratings.delay_days"] * DAY))
            if t <= H:
                on_time = d.timeliness != "late"
                share = (
                    p["ratings.satisfied_share"] if on_time else p["ratings.satisfied_share_late"]
                )
                d.rate(at=t, satisfied=rng.random() < share)

    # -- petitions ----------------------------------------------------------------------------
    def _petitions(self, model, p, day, rng, np_rng, dossiers, citizens, counters):
        expected = len(dossiers) * p["petitions.per_1000_dossiers"] / 1000
        n = int(np_rng.poisson(expected)) if expected > 0 else 0
        if not n or not citizens:
            return []
        by_centre: dict[int, list[SimDossier]] = {}
        for d in dossiers:
            by_centre.setdefault(d.center_id, []).append(d)
        staff = self.world.staff
        petitions: list[SimPetition] = []
        numbers: dict[int, int] = {}
        clock, H = self.clock, self.horizon
        for _ in range(n):
            if model.provincial and (
                rng.random() < p["petitions.province_share"] or not model.communes
            ):
                centre = model.provincial[0]
            else:
                centre = model.communes[rng.randrange(len(model.communes))]
            own = by_centre.get(centre.id)
            dossier = None
            if own and rng.random() < p["petitions.about_dossier_share"]:
                dossier = own[rng.randrange(len(own))]
                citizen = dossier.applicant_id
            else:
                citizen = citizens[rng.randrange(len(citizens))]
            at = self._submission_minute(day, True, p, rng)
            subject, body = PETITION_SUBJECTS[rng.randrange(len(PETITION_SUBJECTS))]
            petitions.append(
                SimPetition(
                    0,
                    "",
                    centre.id,
                    citizen,
                    dossier,
                    subject,
                    body,
                    at,
                    clock.due(at, 15, "working_days"),
                )
            )
        petitions.sort(key=lambda x: x.received_at)
        codes = {c.id: c.code for c in model.provincial + model.communes}
        for i, pet in enumerate(petitions):
            number = numbers[pet.center_id] = numbers.get(pet.center_id, 0) + 1
            code = codes[pet.center_id]
            pet.index = i
            pet.code = f"PA-{code}-{day:%y%m%d}-{number:04d}"
            pet.events.append(("", "received", pet.citizen_id, pet.received_at, ""))
            desk, officer = staff[pet.center_id]
            answer_at = clock.add(
                pet.received_at, 1 + int(expo(rng, p["petitions.answer_days"] * WORKING_DAY))
            )
            start_at = clock.add(
                pet.received_at,
                1 + int((clock.between(pet.received_at, answer_at)) * 0.3 * rng.random()),
            )
            if start_at > H:
                continue
            pet.status = "in_process"
            pet.events.append(("received", "in_process", officer, start_at, ""))
            if answer_at > H or answer_at < start_at:
                continue
            pet.status = "answered"
            pet.answered_at = answer_at
            pet.answer = PETITION_ANSWER
            pet.events.append(("in_process", "answered", officer, answer_at, PETITION_ANSWER))
            last_at = answer_at
            if rng.random() < p["petitions.rated_share"]:
                t = answer_at + 1 + int(expo(rng, DAY))
                if t <= H:
                    pet.satisfied = rng.random() < p["petitions.satisfied_share"]
                    note = self.petition_notes[0 if pet.satisfied else 1]
                    pet.events.append(("answered", "answered", pet.citizen_id, t, note))
                    last_at = t
            # Drawn only when the share is set, so scenarios without repeats keep their streams.
            repeat = p["petitions.repeated_share"]
            if repeat and rng.random() < repeat:
                t = clock.add(last_at, 1 + int(expo(rng, 3 * WORKING_DAY)))
                if t <= H:
                    pet.repeated = True
                    pet.events.append(("answered", "answered", pet.citizen_id, t, self.repeat_note))
        for centre_id, last in numbers.items():
            counters.append((centre_id, "P", day, last))
        return petitions


def bisect_hour(x: float) -> int:
    for hour, cum in enumerate(ONLINE_HOUR_CUM):
        if x < cum:
            return hour
    return 23


def _ref(rng: random.Random, prefix: str) -> str:
    """A payment reference: the gateway's (``NPP-`` + 80 random bits, as
    ``payments_gateway.order_create`` makes them) or a desk receipt number (``BL-``)."""
    return f"{prefix}-{rng.getrandbits(80):020X}"
