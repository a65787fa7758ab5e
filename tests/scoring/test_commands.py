"""recompute_index, report, rankings, setup_beat, load_scoring_inputs."""

import csv
import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from scoring.facts import facts_compute
from scoring.models import CertifiedCopyService, IndexRun, OnlineService, ProcedurePublication
from scoring.report import province_report
from tests.scoring.conftest import at

DAY = date(2025, 7, 11)


@pytest.fixture
def activity(org, make_dossier):
    c1, p = org.p91.communes["91001"], org.p91.provincial
    make_dossier(c1, accepted="2025-06-30", due=at("2025-07-02", 17), state=4)  # carried over
    make_dossier(
        c1,
        accepted="2025-07-07",
        channel=2,
        digitised=True,
        due=at("2025-07-10", 17),
        state=9,
        finished_at=at("2025-07-09"),
        electronic_result=True,
    )
    make_dossier(
        c1,
        org.fee,
        accepted="2025-07-08",
        due=at("2025-07-10", 17),
        payment_status="paid",
        payment_channel="online",
        paid_at=at("2025-07-08", 8),
        state=10,
        finished_at=at("2025-07-10", 17),
        returned_at=at("2025-07-11"),
    )
    make_dossier(
        p,
        org.provincial,
        accepted="2025-07-08",
        channel=2,
        digitised=True,
        due=at("2025-07-09", 17),
        state=9,
        finished_at=at("2025-07-10"),
    )
    make_dossier(org.p92.communes["92001"], accepted="2025-07-08", state=4, due=at("2025-07-30"))
    return org


def call(*args) -> str:
    """Run a command in English (the project's default language is Vietnamese)."""
    out = io.StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_recompute_index_for_a_date_and_a_range(activity):
    out = call("recompute_index", "--date", "2025-07-11")
    assert "complete: 2025-07-11 .. 2025-07-11" in out
    out = call("recompute_index", "--from", "2025-07-09", "--to", "2025-07-11")
    assert "complete: 2025-07-09 .. 2025-07-11" in out
    assert IndexRun.objects.filter(status="complete").count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "11/07/2025"], "--date: not a date"),
        (["--from", "2025-07-11"], "give both --from and --to"),
        (["--from", "2025-07-11", "--to", "2025-07-01"], "is before --from"),
        (["--date", "2025-07-11", "--from", "2025-07-01"], "not both"),
    ],
)
def test_recompute_index_bad_arguments(args, message, db):
    with pytest.raises(CommandError, match=message) as info:
        call_command("recompute_index", *args)
    assert info.value.returncode == 2


def test_recompute_index_async_queues_a_task(activity):
    # Eager Celery (no broker configured): the queued task runs here and publishes.
    out = call("recompute_index", "--date", "2025-07-11", "--async")
    assert out.startswith("queued recompute 2025-07-11 .. 2025-07-11")
    assert IndexRun.objects.get(status="complete").kind == "recompute"


def test_report_json_has_exactly_the_keys_of_the_issue(activity):
    facts_compute(day_from=date(2025, 6, 30), day_to=DAY)
    report = json.loads(
        call(
            "report",
            "--province",
            "91",
            "--from",
            "2025-07-01",
            "--to",
            "2025-07-11",
            "--format",
            "json",
            "--methodology",
            "2025-07",
        )
    )
    assert list(report) == [
        "province",
        "from",
        "to",
        "received",
        "finished",
        "in_process",
        "online",
        "digitised_dossiers",
        "electronic_results",
        "paid_online",
        "index",
    ]
    assert report["province"] == "91"
    assert (report["from"], report["to"]) == ("2025-07-01", "2025-07-11")
    assert report["received"] == {"province": 1, "commune": 2, "carried_over": 1, "total": 4}
    # early: the commune's online dossier; on the due day: the fee-bearing one (17:00 sharp);
    # late: the provincial one.
    assert report["finished"] == {"early": 1, "on_time": 1, "late": 1, "total": 3}
    assert report["in_process"] == 1
    assert report["online"] == {"province": [1, 1], "commune": [1, 2], "total": [2, 3]}
    assert report["digitised_dossiers"] == {"province": [1, 1], "commune": [1, 2], "total": [2, 3]}
    assert report["electronic_results"] == {
        "province": [0, 1],
        "commune": [1, 2],
        "total": [1, 3],
    }
    # The provincial procedure carries a fee too, not paid online.
    assert report["paid_online"] == {"province": [0, 1], "commune": [1, 1], "total": [1, 2]}
    index = report["index"]
    assert list(index) == ["methodology", "window", "total", "groups", "rank", "of"]
    assert index["methodology"] == "2025-07"
    assert index["window"] == ["2025-07-01", "2025-07-11"]
    assert list(index["groups"]) == [
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    ]
    assert index["of"] == 2 and index["rank"] in (1, 2)
    assert index["total"] == round(sum(index["groups"].values()), 2)
    assert report == province_report("91", date(2025, 7, 1), DAY, "2025-07")


def test_report_table_and_csv(activity):
    facts_compute(day_from=date(2025, 6, 30), day_to=DAY)
    table = call("report", "--province", "91", "--from", "2025-07-01", "--to", "2025-07-11")
    assert "Province 91: 2025-07-01 .. 2025-07-11" in table
    assert "Index (2026)" in table and "rank" in table
    rows = list(
        csv.reader(
            io.StringIO(
                call(
                    "report",
                    "--province",
                    "91",
                    "--from",
                    "2025-07-01",
                    "--to",
                    "2025-07-11",
                    "--format",
                    "csv",
                )
            )
        )
    )
    assert rows[0] == ["figure", "province", "commune", "total", "share"]
    assert any(r[0] == "index_total" for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--province", "77", "--from", "2025-07-01", "--to", "2025-07-11"], "unknown province"),
        (["--province", "91", "--from", "2025-07-11", "--to", "2025-07-01"], "is before"),
        (
            [
                "--province",
                "91",
                "--from",
                "2025-07-01",
                "--to",
                "2025-07-11",
                "--methodology",
                "x",
            ],
            "unknown methodology",
        ),
    ],
)
def test_report_bad_arguments(org, args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("report", *args)
    assert info.value.returncode == 2


def test_rankings(activity):
    with pytest.raises(CommandError, match="no index published for 2025-07-11") as info:
        call_command("rankings", "--date", "2025-07-11")
    assert info.value.returncode == 2
    call("recompute_index", "--date", "2025-07-11")
    data = json.loads(call("rankings", "--date", "2025-07-11", "--format", "json"))
    assert (data["date"], data["window"], data["window_from"]) == (
        "2025-07-11",
        "ytd",
        "2025-01-01",
    )
    assert [p["rank"] for p in data["provinces"]] == [1, 2]
    assert {p["province"] for p in data["provinces"]} == {"91", "92"}
    table = call("rankings", "--date", "2025-07-11", "--window", "month")
    assert "month 2025-07-01 .. 2025-07-11" in table
    assert "Tỉnh Thử nghiệm 91" in table


def test_setup_beat_is_idempotent_and_keeps_admin_edits(db):
    assert "2 created" in call("setup_beat")
    nightly = PeriodicTask.objects.get(name="scoring-nightly-index")
    assert nightly.task == "scoring.nightly_index"
    assert (nightly.crontab.minute, nightly.crontab.hour) == ("30", "0")
    assert str(nightly.crontab.timezone) == "Asia/Ho_Chi_Minh"
    sweep = PeriodicTask.objects.get(name="dossiers-outbox-sweep")
    assert sweep.interval.every == 60 and sweep.expire_seconds == 55
    assert "0 created, 0 updated, 2 unchanged" in call("setup_beat")
    # An administrator moves the nightly job to 01:15: kept, unless --reset.
    nightly.crontab = CrontabSchedule.objects.create(
        minute="15", hour="1", timezone="Asia/Ho_Chi_Minh"
    )
    nightly.save()
    call("setup_beat")
    assert PeriodicTask.objects.get(name="scoring-nightly-index").crontab.hour == "1"
    call("setup_beat", "--reset")
    assert PeriodicTask.objects.get(name="scoring-nightly-index").crontab.hour == "0"
    assert PeriodicTask.objects.filter(name__in=["scoring-nightly-index"]).count() == 1


def test_load_scoring_inputs(org):
    out = call("load_scoring_inputs", "--province", "91")
    assert out.startswith("loaded 3 procedure publications")
    assert ProcedurePublication.objects.filter(province_id="91").count() == 3
    # Commune centres offer the two commune procedures, the provincial centre its one.
    assert OnlineService.objects.filter(center__province_id="91").count() == 3 * 2 + 1
    again = call("load_scoring_inputs", "--province", "91")
    assert again == out  # deterministic and idempotent
    assert CertifiedCopyService.objects.count() <= 3
    with pytest.raises(CommandError, match="unknown province '77'"):
        call_command("load_scoring_inputs", "--province", "77")
