"""CSV and XLSX downloads of every table of the manager pages: same rows as the page, numbers
as numbers, formula injection neutralised, same access rule, bad requests refused."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from scoring import methodology as M
from scoring.exports import Table, safe_text, table_csv, table_xlsx
from tests.scoring import test_pages as shared
from tests.scoring.test_pages import D, snapshot

nation = shared.nation
users = shared.users


def download(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def test_ranking_csv(client, nation, users):
    client.cookies["django_language"] = "en"
    response = download(client, users["national"], "/rankings/", format="csv", window="month")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="ranking-month-{D.isoformat()}-ranking.csv"'
    )
    header, *rows = read_csv(response)
    assert header[:4] == ["Rank", "Unit code", "Unit", "Total"]
    assert len(header) == 4 + 6 + 4 and len(rows) == 34
    for row in rows:
        stored = snapshot(row[1], window="month")
        assert int(row[0]) == stored.rank
        assert Decimal(row[3]) == stored.total
        columns = M.METHODOLOGIES["2026"].columns
        assert [Decimal(v) for v in row[4:10]] == [
            Decimal(str(stored.groups[c.key])) for c in columns
        ]


def test_ranking_xlsx_keeps_numbers(client, nation, users):
    response = download(
        client, users["province"], "/rankings/", format="xlsx", methodology="2025-07"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = read_xlsx(response)
    assert len(header) == 4 + 5 + 4 and len(rows) == 34
    first = rows[0]
    stored = snapshot(first[1], methodology="2025-07")
    assert first[0] == 1 == stored.rank
    assert isinstance(first[3], float | int) and Decimal(str(first[3])) == stored.total


def test_province_tables(client, nation, users):
    units = download(client, users["province"], "/rankings/provinces/42/", format="csv")
    header, *rows = read_csv(units)
    assert len(rows) == 70
    assert {r[1] for r in rows} >= {"P42", "C18073"}
    report = download(
        client, users["province"], "/rankings/provinces/42/", format="xlsx", table="report"
    )
    header, *rows = read_xlsx(report)
    assert len(header) == 7 and len(rows) == 13
    from scoring.report import province_report

    expected = province_report("42", date(2025, 1, 1), D, "2026")
    received = rows[0]
    assert received[1] == expected["received"]["province"]
    assert received[3] == expected["received"]["commune"]
    paid = rows[-1]
    assert [paid[5], paid[6]] == expected["paid_online"]["total"]


def test_unit_tables(client, nation, users):
    indicators = download(client, users["staff"], "/rankings/units/C18073/", format="csv")
    header, *rows = read_csv(indicators)
    codes = {r[1]: r for r in rows if r[1]}
    assert set(codes) == set(M.METHODOLOGIES["2026"].codes)
    stored = snapshot("C18073")
    numerator, denominator, ratio, score = stored.indicators["dossiers_online"]
    line = codes["dossiers_online"]
    assert [int(line[3]), int(line[4])] == [numerator, denominator]
    assert Decimal(line[5]) == Decimal(str(ratio)) and Decimal(line[6]) == Decimal(str(score))
    assert Decimal(rows[-1][6]) == stored.total  # the total row closes the table
    trend = download(
        client, users["staff"], "/rankings/units/C18073/", format="xlsx", table="trend"
    )
    header, *rows = read_xlsx(trend)
    assert len(header) == 2 + 6 and len(rows) == len(shared.PUBLISHED)


def test_exports_follow_the_access_rule(client, nation, users):
    refused = download(client, users["province"], "/rankings/provinces/01/", format="csv")
    assert refused.status_code == 403
    assert not refused.get("Content-Disposition")
    staff = download(client, users["staff"], "/rankings/units/C18100/", format="xlsx")
    assert staff.status_code == 403


@pytest.mark.parametrize(
    "params, message",
    [({"format": "pdf"}, "csv or xlsx"), ({"format": "csv", "table": "secrets"}, "ranking")],
)
def test_bad_export_requests(client, nation, users, params, message):
    response = download(client, users["national"], "/rankings/", **params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_export_runs_a_bounded_number_of_queries(
    client, nation, users, django_assert_max_num_queries
):
    client.force_login(users["national"])
    with django_assert_max_num_queries(11):
        assert client.get("/rankings/", {"format": "xlsx"}).status_code == 200


def test_formula_injection_is_neutralised():
    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert safe_text("Xã Kỳ Xuân") == "Xã Kỳ Xuân"
    assert safe_text(Decimal("-1.5")) == Decimal("-1.5")  # numbers stay numbers
    table = Table("t", "T", ["name", "score"], [["=cmd()", Decimal("-0.50")]])
    assert table_csv(table).decode("utf-8").splitlines()[1] == "'=cmd(),-0.50"
    sheet = load_workbook(io.BytesIO(table_xlsx(table))).active
    assert sheet["A2"].value == "'=cmd()" and sheet["B2"].value == -0.5
