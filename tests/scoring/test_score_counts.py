"""``manage.py score_counts``: JSON in, JSON out, exit 2 with a one-line message on bad input."""

import io
import json
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import ROOT

SEED_UNIT = {
    "id": "42",
    "indicators": {
        "dossiers_online": {"numerator": 21132, "denominator": 35526},
        "dossiers_on_time": {"numerator": 28525, "denominator": 29105},
        "petitions_on_time": {"numerator": 0, "denominator": 0},
    },
}


def run(payload, *args) -> dict:
    path_in = io.StringIO(json.dumps(payload))
    out = io.StringIO()
    sys_stdin = sys.stdin
    sys.stdin = path_in
    try:
        call_command("score_counts", "-", *args, stdout=out)
    finally:
        sys.stdin = sys_stdin
    return json.loads(out.getvalue())


def test_scores_counts_from_stdin():
    result = run({"units": [SEED_UNIT]})
    assert result["methodology"] == "2026"
    unit = result["units"][0]
    assert unit["id"] == "42"
    assert unit["indicators"]["dossiers_online"] == {"ratio": 59.48, "score": 6.0}
    assert unit["indicators"]["dossiers_on_time"] == {"ratio": 98.01, "score": 19.6}
    assert unit["indicators"]["petitions_on_time"] == {"ratio": None, "score": 6.0}
    assert unit["indicators"]["reused_data"] == {"ratio": None, "score": None}
    assert unit["groups"] == {
        "transparency": 0.0,
        "progress": 19.6,
        "online": 6.0,
        "payment": 0.0,
        "digitisation": 2.0,
        "satisfaction": 6.0,
    }
    assert unit["total"] == 33.6


def test_five_column_methodology_from_a_file(tmp_path):
    path = tmp_path / "counts.json"
    path.write_text(json.dumps({"units": [SEED_UNIT, {"id": "01", "indicators": {}}]}))
    out = io.StringIO()
    call_command("score_counts", str(path), "--methodology", "2025-07", stdout=out)
    result = json.loads(out.getvalue())
    assert result["methodology"] == "2025-07"
    assert list(result["units"][0]["groups"]) == [
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    ]
    assert result["units"][1] == {
        "id": "01",
        "indicators": {
            code: {"ratio": None, "score": None} for code in result["units"][0]["indicators"]
        }
        | {"certified_copy_service": {"ratio": None, "score": 2.0}},
        "groups": {
            "transparency": 0.0,
            "progress": 0.0,
            "online": 0.0,
            "digitisation": 2.0,
            "satisfaction": 0.0,
        },
        "total": 2.0,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON at line 1"),
        ("[]", 'a JSON object with a "units" list'),
        ('{"units": [{"indicators": {}}]}', 'units[0] has no "id"'),
        ('{"units": [{"id": "1", "indicators": []}]}', '"indicators" must be an object'),
        (
            '{"units": [{"id": "1", "indicators": {"x": {"numerator": 1, "denominator": 2}}}]}',
            "unit '1': unknown indicator code 'x'",
        ),
        (
            '{"units": [{"id": "1", "indicators": {"dossiers_online": {"numerator": -1, '
            '"denominator": 2}}}]}',
            "negative numerator -1",
        ),
        (
            '{"units": [{"id": "1", "indicators": {"dossiers_online": {"numerator": 3, '
            '"denominator": 2}}}]}',
            "dossiers_online: numerator 3 > denominator 2",
        ),
        (
            '{"units": [{"id": "1", "indicators": {"dossiers_online": {"numerator": 3}}}]}',
            'expected {"numerator": N, "denominator": D}',
        ),
    ],
)
def test_malformed_input_exits_2_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CommandError, match=re.escape(message)) as info:
        call_command("score_counts", str(path))
    assert info.value.returncode == 2


def test_unknown_methodology_and_missing_file(tmp_path):
    with pytest.raises(CommandError, match="unknown methodology") as info:
        call_command("score_counts", str(tmp_path / "x.json"), "--methodology", "1999")
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="cannot read") as info:
        call_command("score_counts", str(tmp_path / "missing.json"))
    assert info.value.returncode == 2


def test_as_a_process_one_line_on_stderr_and_status_2():
    proc = subprocess.run(
        [sys.executable, "manage.py", "score_counts", "-"],
        input='{"units": [{"id": "1", "indicators": {"nope": {"numerator": 1, "denominator": 1}}}]}',
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0
    assert "unknown indicator code 'nope'" in proc.stderr
