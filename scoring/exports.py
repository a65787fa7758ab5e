"""CSV and XLSX downloads of the manager pages' tables.

A page builds its tables as ``Table`` values (the same rows it renders); ``export_response``
turns the one named by ``?table=`` into a file when ``?format=csv`` or ``?format=xlsx`` is
asked. Numbers stay numbers (Decimal) in both formats; text that a spreadsheet would run as a
formula is neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.utils.text import slugify

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass
class Table:
    """A table of a page: ``key`` names it in ``?table=``; ``rows`` hold raw values (Decimal,
    int, date, str or None), in the order of ``columns``."""

    key: str
    title: str
    columns: Sequence[str]
    rows: list[list] = field(default_factory=list)


class ExportError(ValueError):
    pass


def safe_text(value):
    """Spreadsheet formula injection: a text cell starting with = + - @ is shown as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value)) if isinstance(value, str) else value


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    # A byte-order mark so spreadsheet programs read the Vietnamese text as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(str(table.title).translate(SHEET_FORBIDDEN)[:31] or "1"))
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_text(value))
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_response(params, tables: Sequence[Table], basename: str) -> HttpResponse | None:
    """The download asked by ``?format=csv|xlsx[&table=key]``, or None for the HTML page.
    Raises ExportError for an unknown format or table."""
    fmt = params.get("format")
    if not fmt:
        return None
    if fmt not in FORMATS:
        raise ExportError(f"format must be csv or xlsx, not {fmt!r}")
    key = params.get("table") or tables[0].key
    table = next((t for t in tables if t.key == key), None)
    if table is None:
        known = ", ".join(t.key for t in tables)
        raise ExportError(f"no table {key!r} on this page (tables: {known})")
    filename = f"{slugify(basename)}-{table.key}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(table_xlsx(table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
