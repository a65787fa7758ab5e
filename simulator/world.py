"""The reference data the generator needs, read once from the database into plain values
(picklable, so worker processes can share it): centres, procedure versions, staff, citizens."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from simulator.clock import Clock


@dataclass(frozen=True)
class Version:
    """A ``ProcedureVersion`` with what the simulator needs of its procedure."""

    id: int
    code: str
    level: str
    valid_from: date
    limit_amount: int
    limit_unit: str
    online_limit_amount: int | None
    fee_vnd: int
    online_level: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Centre:
    id: int
    code: str
    level: str  # "province" | "commune"
    province: str
    kind: str  # "province" for the provincial centre, else the commune's kind


@dataclass
class World:
    clock: Clock
    centres: dict[str, list[Centre]]  # by province: provincial centre first, then communes
    versions: dict[str, list[Version]]  # by procedure code, oldest first
    staff: dict[int, tuple[int, int]] = field(default_factory=dict)  # centre → (desk, officer)
    citizens: dict[str, Sequence[int]] = field(default_factory=dict)  # province → user ids

    def version_on(self, code: str, day: date) -> Version | None:
        """``services.current_version``: the latest version valid from ``day`` or earlier."""
        versions = self.versions[code]
        index = bisect.bisect_right([v.valid_from for v in versions], day) - 1
        return versions[index] if index >= 0 else None


def load_world(provinces: list[str], clock: Clock) -> World:
    from dossiers.models import ProcedureVersion
    from portal.models import ServiceCenter

    centres: dict[str, list[Centre]] = {p: [] for p in provinces}
    rows = (
        ServiceCenter.objects.filter(province_id__in=provinces)
        .select_related("commune")
        .order_by("province_id", "-level", "code")  # "province" sorts after "commune": reverse
    )
    for c in rows:
        kind = "province" if c.level == "province" else c.commune.kind
        centres[c.province_id].append(Centre(c.id, c.code, c.level, c.province_id, kind))
    for _p, items in centres.items():
        items.sort(key=lambda c: (c.level != "province", c.code))

    versions: dict[str, list[Version]] = {}
    for v in ProcedureVersion.objects.select_related("procedure").order_by("valid_from", "id"):
        versions.setdefault(v.procedure.code, []).append(
            Version(
                id=v.id,
                code=v.procedure.code,
                level=v.procedure.level,
                valid_from=v.valid_from,
                limit_amount=v.limit_amount,
                limit_unit=v.limit_unit,
                online_limit_amount=v.online_limit_amount,
                fee_vnd=v.fee_vnd,
                online_level=v.online_level,
                documents=tuple(v.procedure.required_documents or ()),
            )
        )
    return World(clock=clock, centres=centres, versions=versions)
