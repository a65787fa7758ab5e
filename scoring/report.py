"""The seed article's statistics report for a province and any window, with the index for the
same window (scored on request from the daily facts, ranked among the provinces).

``province_report(...)`` returns exactly the JSON shape of issue 4 item 10; pairs are
``[numerator, denominator]``; "province" = the provincial centre, "commune" = the province's
communes together, "total" = both."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.utils.translation import gettext as _

from portal.models import Province
from scoring import methodology as M
from scoring.counts import UnitFacts
from scoring.models import UnitKind
from scoring.snapshots import scores_for_range


class ReportError(ValueError):
    pass


def _split(pooled: UnitFacts, provincial: UnitFacts | None, numerator: str, denominator: str):
    def pair(unit):
        if unit is None:
            return [0, 0]
        return [unit.flows[numerator], unit.flows[denominator]]

    province = pair(provincial)
    total = pair(pooled)
    return {
        "province": province,
        "commune": [total[0] - province[0], total[1] - province[1]],
        "total": total,
    }


def province_report(
    province_code: str,
    date_from: date,
    date_to: date,
    methodology: str = M.DEFAULT_METHODOLOGY,
) -> dict:
    if date_to < date_from:
        raise ReportError(f"the window ends ({date_to}) before it starts ({date_from})")
    if not Province.objects.filter(code=province_code).exists():
        raise ReportError(f"unknown province {province_code!r}")
    version = M.get(methodology)
    scored = scores_for_range(
        date_from=date_from, date_to=date_to, methodology=version.code, province=province_code
    )
    units = scored.facts.units
    pooled = units[province_code]
    provincial = next(
        (
            u
            for u in units.values()
            if u.province == province_code and u.kind == UnitKind.PROVINCIAL_CENTER
        ),
        None,
    )
    received_province = provincial.flows["received"] if provincial else 0
    received_commune = pooled.flows["received"] - received_province
    score = scored.units[province_code]
    return {
        "province": province_code,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "received": {
            "province": received_province,
            "commune": received_commune,
            "carried_over": pooled.carried_over,
            "total": pooled.handled,
        },
        "finished": {
            "early": pooled.finished_early,
            "on_time": pooled.finished_on_time,
            "late": pooled.finished_late,
            "total": pooled.finished_total,
        },
        "in_process": pooled.in_process,
        "online": _split(pooled, provincial, "received_online", "received"),
        "digitised_dossiers": _split(pooled, provincial, "received_digitised", "received"),
        "electronic_results": _split(
            pooled, provincial, "electronic_results", "finished_with_result"
        ),
        "paid_online": _split(pooled, provincial, "paid_online", "fee_bearing"),
        "index": {
            "methodology": version.code,
            "window": [date_from.isoformat(), date_to.isoformat()],
            "total": float(score.total),
            "groups": {k: float(v) for k, v in score.groups.items()},
            "rank": score.rank,
            "of": score.rank_of,
        },
    }


def _percent(pair) -> str:
    numerator, denominator = pair
    if not denominator:
        return "—"
    return f"{M.round_half_up(M.Fraction(numerator * 100, denominator))} %"


def report_rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """(figure, province, commune, whole province, share) rows of the statistics table."""
    r = report
    rows = [
        (
            _("Received in the window"),
            str(r["received"]["province"]),
            str(r["received"]["commune"]),
            str(r["received"]["province"] + r["received"]["commune"]),
            "",
        ),
        (_("Carried over"), "", "", str(r["received"]["carried_over"]), ""),
        (_("Handled (received + carried over)"), "", "", str(r["received"]["total"]), ""),
        (_("Finished early"), "", "", str(r["finished"]["early"]), ""),
        (_("Finished on the due day"), "", "", str(r["finished"]["on_time"]), ""),
        (_("Finished late"), "", "", str(r["finished"]["late"]), ""),
        (
            _("Finished"),
            "",
            "",
            str(r["finished"]["total"]),
            _percent([r["finished"]["early"] + r["finished"]["on_time"], r["finished"]["total"]]),
        ),
        (_("In process"), "", "", str(r["in_process"]), ""),
    ]
    for key, label in (
        ("online", _("Submitted online")),
        ("digitised_dossiers", _("Digitised at intake")),
        ("electronic_results", _("Electronic results (of finished with a result)")),
        ("paid_online", _("Fee-bearing dossiers paid online")),
    ):
        part = r[key]
        rows.append(
            (
                label,
                "{}/{}".format(*part["province"]),
                "{}/{}".format(*part["commune"]),
                "{}/{}".format(*part["total"]),
                _percent(part["total"]),
            )
        )
    return rows


def report_table(report: dict) -> str:
    header = (_("Figure"), _("Province level"), _("Commune level"), _("Whole province"), "%")
    rows = [header, *report_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"{_('Province')} {report['province']}: {report['from']} .. {report['to']}",
        "",
    ]
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    index = report["index"]
    lines += [
        "",
        _("Index (%(methodology)s): %(total).2f, rank %(rank)s of %(of)s")
        % {
            "methodology": index["methodology"],
            "total": index["total"],
            "rank": index["rank"],
            "of": index["of"],
        },
        "  " + " · ".join(f"{key} {value:.2f}" for key, value in index["groups"].items()),
    ]
    return "\n".join(lines)


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "province", "commune", "total", "share"])
    writer.writerows(report_rows(report))
    index = report["index"]
    writer.writerow(["index_total", "", "", f"{index['total']:.2f}", ""])
    for key, value in index["groups"].items():
        writer.writerow([f"index_{key}", "", "", f"{value:.2f}", ""])
    writer.writerow(["rank", "", "", index["rank"], f"of {index['of']}"])
    return out.getvalue()
