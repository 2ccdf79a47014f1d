"""The evaluation tables as an Excel workbook (openpyxl), laid out as bureaus publish them.

Per sheet: a title row (崇义县数字城管 2026年10月 处置单位综合评价), the period, the Chinese
header row (frozen, bold, filled), one row per object ranked by score — counts as integers,
rates as the API's numbers (two decimals, shown with a % sign), score and grade (coloured) —
and the definitions and settings in force as footnotes. The cells hold the same numbers as the
API's JSON for the same period and reader (tests/test_excel.py reads them back).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from civicgrid.evaluation.tables import Table, settings_notes

GRADE_FILLS = {"A": "D1FADF", "B": "D1E0FA", "C": "FEF0C7", "D": "FDDCAB", "E": "FEE4E2"}
HEADER_FILL = PatternFill("solid", fgColor="1F5FBF")
TOTAL_FILL = PatternFill("solid", fgColor="F2F4F7")
THIN = Side(style="thin", color="98A2B3")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PERCENT_FORMAT = '0.00"%"'
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def header_labels(table: Table) -> list[str]:
    """The sheet's column headers, in order (the page's columns)."""
    labels = [str(table.rank_label), _("代码"), _("名称")]
    labels += [column.label for column in table.columns]
    if table.scored:
        labels += [_("综合指标值"), _("评价等级")]
    return labels


def row_values(table: Table, rank, row) -> list:
    values = [rank, row.code, row.name]
    for column in table.columns:
        value = getattr(row, column.name)
        if column.kind == "bool":
            value = None if value is None else (_("达标") if value else _("未达标"))
        elif isinstance(value, Decimal):
            value = float(value)
        values.append(value)
    if table.scored:
        values += [float(row.score) if row.score is not None else None, row.grade]
    return values


def sheet_title(table: Table, area: str) -> str:
    return _("%(area)s数字城管 %(period)s %(object)s综合评价") % {
        "area": area,
        "period": table.period.label,
        "object": table.tab.label,
    }


def write_sheet(ws, table: Table, area: str) -> None:
    labels = header_labels(table)
    width = len(labels)
    last = get_column_letter(width)
    ws.title = str(table.tab.label)[:31]
    ws["A1"] = sheet_title(table, area)
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 30
    ws["A2"] = _("统计周期：%(label)s（%(first)s 至 %(last)s）") % {
        "label": table.period.label,
        "first": table.period.first_day.isoformat(),
        "last": table.period.last_day.isoformat(),
    }
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A2:{last}2")
    for col, label in enumerate(labels, start=1):
        cell = ws.cell(row=3, column=col, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = CENTER
        cell.border = BORDER
    ws.row_dimensions[3].height = 36
    kinds = ["count", "text", "text"] + [column.kind for column in table.columns]
    if table.scored:
        kinds += ["number", "grade"]
    rows = [(ranked.rank, ranked.row) for ranked in table.rows]
    if table.overall is not None:
        rows.append((None, table.overall))
    r = 3
    for rank, row in rows:
        r += 1
        for col, (value, kind) in enumerate(zip(row_values(table, rank, row), kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.border = BORDER
            if kind == "percent":
                cell.number_format = PERCENT_FORMAT
            elif kind == "number":
                cell.number_format = "0.00"
            if kind == "grade" and value:
                cell.fill = PatternFill("solid", fgColor=GRADE_FILLS.get(value, "FFFFFF"))
                cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="left" if kind == "text" else "center", vertical="center")
            if rank is None and row is table.overall:
                cell.fill = TOTAL_FILL
                cell.font = Font(bold=True)
    r += 1
    notes = [_("说明：")] + [f"{n}. {note}" for n, note in enumerate(settings_notes(table), start=1)]
    notes.append(_("“—”表示本期没有分母（无可计算的率）。指标定义见 docs/evaluation.md。"))
    for note in notes:
        r += 1
        ws.cell(row=r, column=1, value=note).font = Font(size=9, color="475467")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    ws.freeze_panes = "D4"
    widths = [6, 12, 22] + [max(9, min(14, len(column.label) * 1.6 + 2)) for column in table.columns]
    if table.scored:
        widths += [11, 9]
    for col, value in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = value
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"


def workbook_bytes(tables: list[Table], *, area: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        write_sheet(wb.create_sheet(), table, area)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
