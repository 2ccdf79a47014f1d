"""Import and export of the catalogue as YAML or Excel (.xlsx).

Both formats carry the same content (docs/catalog.md): categories with their codes, and
stage time limits. Export then import gives the same catalogue back. An import validates
every row first and writes nothing when any row is wrong; each error names its sheet, row
and column in Chinese.
"""

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from civicgrid.catalog.models import Category, CategoryCode, Kind, RegionClass, Stage, StageTimeLimit, TimeUnit
from civicgrid.catalog.yamlio import dump_yaml, load_yaml
from civicgrid.core.models import OrgUnit

YAML_FORMAT = "civicgrid-catalog"
YAML_VERSION = 1
CATEGORY_SHEET = "分类"
LIMIT_SHEET = "时限"
LEGACY = CategoryCode.Scheme.LEGACY
GBT = CategoryCode.Scheme.GBT47678_5

# (field, Excel header) of the categories sheet, in column order.
CATEGORY_COLUMNS = [
    ("key", "目录键"),
    ("kind", "类型"),
    ("gbt_code", "国标编码(GB/T 47678.5)"),
    ("gbt_name", "国标名称"),
    ("gbt_major_name", "国标大类"),
    ("legacy_code", "旧标编码(GB/T 30428.2)"),
    ("legacy_name", "旧标名称"),
    ("legacy_major_name", "旧标大类"),
    ("major_name", "大类"),
    ("name", "名称"),
    ("filing_condition", "立案条件"),
    ("filing_condition_confirmed", "立案条件已确认"),
    ("filing_condition_source", "立案条件来源"),
    ("closing_condition", "结案条件"),
    ("closing_condition_confirmed", "结案条件已确认"),
    ("closing_condition_source", "结案条件来源"),
    ("responsible_unit_type", "责任单位类型"),
    ("responsible_unit_source", "责任单位来源"),
    ("default_handling_unit", "默认处置单位编码"),
    ("is_active", "是否启用"),
    ("is_public", "是否对公众开放"),
    ("sort_order", "排序"),
    ("note", "备注"),
]
LIMIT_COLUMNS = [
    ("key", "目录键"),
    ("code", "编码"),
    ("name", "名称"),  # for people reading the sheet; ignored on import
    ("stage", "环节"),
    ("region_class", "区域类别"),
    ("amount", "时限"),
    ("unit", "单位"),
    ("confirmed", "已确认"),
    ("source", "来源"),
    ("note", "备注"),
]
REQUIRED_CATEGORY_HEADERS = {"类型", "名称"}
REQUIRED_LIMIT_HEADERS = {"环节", "时限", "单位"}
CATEGORY_FIELDS = [
    "major_name",
    "name",
    "filing_condition",
    "filing_condition_confirmed",
    "filing_condition_source",
    "closing_condition",
    "closing_condition_confirmed",
    "closing_condition_source",
    "responsible_unit_type",
    "responsible_unit_source",
    "is_active",
    "is_public",
    "sort_order",
    "note",
]
BOOL_FIELDS = {"filing_condition_confirmed", "closing_condition_confirmed", "is_active", "is_public", "confirmed"}
BOOL_DEFAULTS = {"is_active": True, "is_public": True}
TRUE_WORDS = {"是", "true", "yes", "y", "1", "已确认", "√"}
FALSE_WORDS = {"否", "false", "no", "n", "0", "未确认", ""}
MAX_AMOUNT = Decimal("999999.99")


# --- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """One problem in an import file, located by sheet (or YAML section), row and column."""

    sheet: str
    row: int
    column: str
    message: str
    row_word: str = "行"

    def __str__(self) -> str:
        return f"“{self.sheet}”第 {self.row} {self.row_word}“{self.column}”：{self.message}"


class CatalogImportError(Exception):
    """The file was rejected; nothing was imported. ``issues`` lists every problem found."""

    def __init__(self, issues: list[ImportIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    limits: int = 0

    def __str__(self) -> str:
        return f"导入完成：新建分类 {self.created} 个，更新分类 {self.updated} 个，写入时限 {self.limits} 条。"


@dataclass
class _Row:
    """One parsed row with where each field came from, for error messages."""

    values: dict[str, Any]
    sheet: str
    row: int
    headers: dict[str, str]
    row_word: str = "行"
    limits: list["_Row"] | None = None  # YAML: the category's own time_limits (None = not given)

    def issue(self, name: str, message: str) -> ImportIssue:
        return ImportIssue(self.sheet, self.row, self.headers.get(name, name), message, self.row_word)


@dataclass
class _Parsed:
    categories: list[_Row] = field(default_factory=list)
    limits: list[_Row] | None = None  # Excel: the limits sheet (None = the sheet is absent)
    issues: list[ImportIssue] = field(default_factory=list)


# --- export ---------------------------------------------------------------------------------


def _amount_out(amount: Decimal) -> int | float:
    amount = Decimal(str(amount))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def catalog_export_data(categories: QuerySet[Category] | None = None) -> list[dict]:
    """The catalogue (or the given categories) as plain data (the YAML layout)."""
    rows = []
    categories = (
        (categories if categories is not None else Category.objects.all())
        .select_related("default_handling_unit")
        .prefetch_related("codes", "time_limits")
    )
    for category in categories.order_by("kind", "sort_order", "id"):
        rows.append(
            {
                "key": category.key,
                "kind": category.kind,
                "codes": [
                    {"scheme": c.scheme, "code": c.code, "major_name": c.major_name, "name": c.name}
                    for c in sorted(category.codes.all(), key=lambda c: c.scheme != GBT)
                ],
                **{name: getattr(category, name) for name in CATEGORY_FIELDS},
                "default_handling_unit": category.default_handling_unit.code
                if category.default_handling_unit
                else None,
                "time_limits": [
                    {
                        "stage": limit.stage,
                        "region_class": limit.region_class,
                        "amount": _amount_out(limit.amount),
                        "unit": limit.unit,
                        "confirmed": limit.confirmed,
                        "source": limit.source,
                        "note": limit.note,
                    }
                    for limit in sorted(
                        category.time_limits.all(), key=lambda r: (Stage.values.index(r.stage), r.region_class)
                    )
                ],
            }
        )
    return rows


def catalog_export_yaml(stream: IO[str], categories: QuerySet[Category] | None = None) -> None:
    data = {"format": YAML_FORMAT, "version": YAML_VERSION, "categories": catalog_export_data(categories)}
    dump_yaml(data, stream)


# The Excel layout is Chinese (headers and choice labels) whatever the user's language, so a
# file exported by an English-speaking admin imports anywhere.
@translation.override("zh-hans")
def catalog_export_xlsx(stream: IO[bytes], categories: QuerySet[Category] | None = None) -> None:
    workbook = Workbook()
    category_sheet = workbook.active
    category_sheet.title = CATEGORY_SHEET
    limit_sheet = workbook.create_sheet(LIMIT_SHEET)
    category_sheet.append([header for _f, header in CATEGORY_COLUMNS])
    limit_sheet.append([header for _f, header in LIMIT_COLUMNS])
    yes_no = {True: "是", False: "否"}
    for data in catalog_export_data(categories):
        codes = {c["scheme"]: c for c in data["codes"]}
        gbt, legacy = codes.get(GBT, {}), codes.get(LEGACY, {})
        flat = {
            **data,
            "kind": str(Kind(data["kind"]).label),
            "gbt_code": gbt.get("code", ""),
            "gbt_name": gbt.get("name", ""),
            "gbt_major_name": gbt.get("major_name", ""),
            "legacy_code": legacy.get("code", ""),
            "legacy_name": legacy.get("name", ""),
            "legacy_major_name": legacy.get("major_name", ""),
            "default_handling_unit": data["default_handling_unit"] or "",
        }
        category_sheet.append([yes_no[flat[f]] if f in BOOL_FIELDS else flat[f] for f, _h in CATEGORY_COLUMNS])
        for limit in data["time_limits"]:
            limit_sheet.append(
                [
                    data["key"],
                    gbt.get("code") or legacy.get("code", ""),
                    data["name"],
                    str(Stage(limit["stage"]).label),
                    limit["region_class"],
                    limit["amount"],
                    str(TimeUnit(limit["unit"]).label),
                    yes_no[limit["confirmed"]],
                    limit["source"],
                    limit["note"],
                ]
            )
    for sheet, columns in ((category_sheet, CATEGORY_COLUMNS), (limit_sheet, LIMIT_COLUMNS)):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index, (name, _header) in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 40 if "condition" in name or name == "note" else 16
            if name in {"gbt_code", "legacy_code", "code", "default_handling_unit", "key"}:
                # Text cells, so Excel keeps the leading zeros of codes.
                for cell in sheet[letter][1:]:
                    cell.number_format = "@"
    workbook.save(stream)


def catalog_export_file(path: str | Path) -> None:
    """Write the catalogue to ``path``; the extension chooses YAML or Excel."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        with open(path, "wb") as fh:
            catalog_export_xlsx(fh)
    elif path.suffix.lower() in {".yaml", ".yml"}:
        with open(path, "w", encoding="utf-8") as fh:
            catalog_export_yaml(fh)
    else:
        raise ValueError("只支持 .yaml/.yml 或 .xlsx 文件。")


# --- parsing --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_xlsx(stream: IO[bytes]) -> _Parsed:
    parsed = _Parsed()
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        parsed.issues.append(ImportIssue("文件", 1, "-", "无法读取 Excel 文件，请上传 .xlsx 格式。"))
        return parsed
    if CATEGORY_SHEET not in workbook.sheetnames:
        parsed.issues.append(ImportIssue(CATEGORY_SHEET, 1, "-", f"缺少工作表“{CATEGORY_SHEET}”。"))
        return parsed
    parsed.categories = _sheet_rows(workbook[CATEGORY_SHEET], CATEGORY_COLUMNS, REQUIRED_CATEGORY_HEADERS, parsed)
    if LIMIT_SHEET in workbook.sheetnames:
        parsed.limits = _sheet_rows(workbook[LIMIT_SHEET], LIMIT_COLUMNS, REQUIRED_LIMIT_HEADERS, parsed)
    workbook.close()
    return parsed


def _sheet_rows(sheet, columns, required: set[str], parsed: _Parsed) -> list[_Row]:
    by_header = {header: name for name, header in columns}
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, ()) or ()
    positions = {}
    for index, header in enumerate(header_row):
        name = by_header.get(_text(header))
        if name:
            positions[name] = index
    missing = [h for h in sorted(required) if by_header[h] not in positions]
    for header in missing:
        parsed.issues.append(ImportIssue(sheet.title, 1, header, "缺少此列。"))
    if missing:
        return []
    headers = {name: header for name, header in columns}
    result = []
    for number, cells in enumerate(rows, start=2):
        if not cells or all(_text(c) == "" for c in cells):
            continue
        values = {name: (cells[i] if i < len(cells) else None) for name, i in positions.items()}
        result.append(_Row(values, sheet.title, number, headers))
    return result


def _parse_yaml(stream: IO[str] | IO[bytes]) -> _Parsed:
    parsed = _Parsed()
    try:
        data = load_yaml(stream)
    except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        parsed.issues.append(ImportIssue("文件", line, "-", "YAML 格式错误，无法解析。"))
        return parsed
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        parsed.issues.append(ImportIssue("文件", 1, "categories", "缺少分类列表 categories。"))
        return parsed
    for number, item in enumerate(data["categories"], start=1):
        if not isinstance(item, dict):
            parsed.issues.append(ImportIssue("categories", number, "-", "每个分类应为一个映射。", "条"))
            continue
        values = {name: item.get(name) for name in ["key", "kind", "default_handling_unit", *CATEGORY_FIELDS]}
        codes = item.get("codes") or []
        headers = {}
        if not isinstance(codes, list):
            parsed.issues.append(ImportIssue("categories", number, "codes", "codes 应为列表。", "条"))
            codes = []
        for index, code in enumerate(codes):
            code = code if isinstance(code, dict) else {}
            prefix = {LEGACY: "legacy", GBT: "gbt"}.get(code.get("scheme"))
            if prefix is None:
                parsed.issues.append(
                    ImportIssue("categories", number, f"codes[{index}].scheme", "未知的编码体系。", "条")
                )
                continue
            if values.get(f"{prefix}_code"):
                parsed.issues.append(
                    ImportIssue("categories", number, f"codes[{index}].scheme", "同一编码体系只能有一个编码。", "条")
                )
            for part in ("code", "name", "major_name"):
                values[f"{prefix}_{part}"] = code.get(part)
                headers[f"{prefix}_{part}"] = f"codes[{index}].{part}"
        row = _Row(values, "categories", number, headers, "条")
        limits = item.get("time_limits")
        if limits is not None:
            row.limits = []
            for index, limit in enumerate(limits if isinstance(limits, list) else []):
                limit = limit if isinstance(limit, dict) else {}
                names = ["stage", "region_class", "amount", "unit", "confirmed", "source", "note"]
                row.limits.append(
                    _Row(
                        {n: limit.get(n) for n in names},
                        "categories",
                        number,
                        {n: f"time_limits[{index}].{n}" for n in names},
                        "条",
                    )
                )
        parsed.categories.append(row)
    return parsed


# --- validation -----------------------------------------------------------------------------


def _choice(value: Any, choices: type, row: _Row, name: str, issues: list, what: str) -> str | None:
    text = _text(value)
    for choice in choices:
        if text in (choice.value, str(choice.label)):
            return choice.value
    labels = "、".join(str(c.label) for c in choices if c.value)
    issues.append(row.issue(name, f"未知的{what}“{text}”，应为：{labels}。"))
    return None


def _bool(value: Any, row: _Row, name: str, issues: list) -> bool:
    if isinstance(value, bool):
        return value
    if value is None and name in BOOL_DEFAULTS:
        return BOOL_DEFAULTS[name]
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    issues.append(row.issue(name, f"无法识别“{_text(value)}”，应为“是”或“否”。"))
    return False


def _code(value: Any, scheme: str, row: _Row, name: str, issues: list) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value).zfill(CategoryCode.expected_length(scheme))  # Excel turned 01001 into 1001
    text = _text(value)
    width = CategoryCode.expected_length(scheme)
    if text and (not text.isdigit() or len(text) != width):
        issues.append(row.issue(name, f"编码“{text}”格式不正确，应为 {width} 位数字。"))
    return text


def _validate_limit(row: _Row, issues: list) -> dict | None:
    before = len(issues)
    values = row.values
    stage = _choice(values.get("stage"), Stage, row, "stage", issues, "环节")
    region_text = _text(values.get("region_class"))
    region_class = "" if region_text in {"", "全部", str(RegionClass.ALL.label)} else region_text.upper()
    if region_class not in RegionClass.values:
        issues.append(row.issue("region_class", f"未知的区域类别“{region_text}”，应为空、A、B 或 C。"))
    unit = _choice(values.get("unit"), TimeUnit, row, "unit", issues, "时限单位")
    amount = None
    try:
        amount = Decimal(_text(values.get("amount")))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        issues.append(row.issue("amount", f"时限“{_text(values.get('amount'))}”不是数字。"))
    else:
        if amount < 0:
            issues.append(row.issue("amount", "时限不能为负数。"))
        elif amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
            issues.append(row.issue("amount", "时限最多两位小数，且不超过 999999.99。"))
    confirmed = _bool(values.get("confirmed"), row, "confirmed", issues)
    if len(issues) > before:
        return None
    return {
        "stage": stage,
        "region_class": region_class,
        "amount": amount,
        "unit": unit,
        "confirmed": confirmed,
        "source": _text(values.get("source")),
        "note": _text(values.get("note")),
    }


def _validate(parsed: _Parsed) -> list[dict]:
    """Check every row; return the categories to write (each with its limits, or None to keep them)."""
    issues = parsed.issues
    units = set(OrgUnit.objects.values_list("code", flat=True))
    db_codes = {(c.scheme, c.kind, c.code): c.category.key for c in CategoryCode.objects.select_related("category")}
    seen_keys: dict[str, _Row] = {}
    seen_codes: dict[tuple, _Row] = {}
    result = []
    for row in parsed.categories:
        values = row.values
        kind = _choice(values.get("kind"), Kind, row, "kind", issues, "类型")
        name = _text(values.get("name"))
        if not name:
            issues.append(row.issue("name", "名称不能为空。"))
        codes = []
        for scheme, prefix in ((GBT, "gbt"), (LEGACY, "legacy")):
            code = _code(values.get(f"{prefix}_code"), scheme, row, f"{prefix}_code", issues)
            if code:
                codes.append(
                    {
                        "scheme": scheme,
                        "code": code,
                        "name": _text(values.get(f"{prefix}_name")),
                        "major_name": _text(values.get(f"{prefix}_major_name")),
                    }
                )
                # GB/T codes are unique across kinds; legacy codes within a kind.
                slot = (scheme, kind if scheme == LEGACY else "", code)
                if slot in seen_codes:
                    other = seen_codes[slot]
                    issues.append(
                        row.issue(f"{prefix}_code", f"编码“{code}”重复，第 {other.row} {other.row_word}已使用。")
                    )
                seen_codes[slot] = row
        key = _text(values.get("key"))
        if not key:
            key = _existing_key(codes, kind, db_codes) or ""
        if key:
            if key in seen_keys:
                issues.append(row.issue("key", f"目录键“{key}”重复，第 {seen_keys[key].row} {row.row_word}已使用。"))
            seen_keys[key] = row
        unit_code = _text(values.get("default_handling_unit"))
        if unit_code and unit_code not in units:
            issues.append(row.issue("default_handling_unit", f"未知的单位编码“{unit_code}”。"))
        sort_text = _text(values.get("sort_order")) or "0"
        if not sort_text.isdigit():
            issues.append(row.issue("sort_order", "排序应为非负整数。"))
        data = {name: _text(values.get(name)) for name in CATEGORY_FIELDS if name not in BOOL_FIELDS}
        data.update(
            {name: _bool(values.get(name), row, name, issues) for name in CATEGORY_FIELDS if name in BOOL_FIELDS}
        )
        data["sort_order"] = int(sort_text) if sort_text.isdigit() else 0
        limits = None
        if row.limits is not None:
            limits, seen = [], {}
            for limit_row in row.limits:
                limit = _validate_limit(limit_row, issues)
                if limit is None:
                    continue
                slot = (limit["stage"], limit["region_class"])
                if slot in seen:
                    issues.append(limit_row.issue("stage", "同一环节和区域类别的时限重复。"))
                seen[slot] = limit_row
                limits.append(limit)
        result.append(
            {"row": row, "key": key, "kind": kind, "codes": codes, "unit": unit_code, "data": data, "limits": limits}
        )

    # Codes already held by a category outside the file would collide.
    file_keys = {entry["key"] for entry in result if entry["key"]}
    for entry in result:
        for code in entry["codes"]:
            owner = _db_owner(db_codes, code["scheme"], entry["kind"], code["code"])
            if owner and owner != entry["key"] and owner not in file_keys:
                prefix = "gbt" if code["scheme"] == GBT else "legacy"
                issues.append(
                    entry["row"].issue(f"{prefix}_code", f"编码“{code['code']}”已被目录键为“{owner}”的分类使用。")
                )

    if parsed.limits is not None:
        _attach_sheet_limits(parsed.limits, result, db_codes, issues)
    if issues:
        raise CatalogImportError(issues)
    return result


def _db_owner(db_codes: dict, scheme: str, kind: str | None, code: str) -> str | None:
    if scheme == GBT:
        return next((key for (s, _k, c), key in db_codes.items() if s == GBT and c == code), None)
    return db_codes.get((scheme, kind, code))


def _existing_key(codes: list[dict], kind: str | None, db_codes: dict) -> str | None:
    """A row without 目录键 updates the category that holds its code, if any."""
    for code in codes:
        owner = _db_owner(db_codes, code["scheme"], kind, code["code"])
        if owner:
            return owner
    return None


def _attach_sheet_limits(rows: list[_Row], entries: list[dict], db_codes: dict, issues: list) -> None:
    """Give each category the rows of the limits sheet that name it (by 目录键, else 编码)."""
    by_key = {entry["key"]: entry for entry in entries if entry["key"]}
    by_code: dict[str, list[dict]] = {}
    for entry in entries:
        for code in entry["codes"]:
            by_code.setdefault(code["code"], []).append(entry)
    db_keys = set(Category.objects.values_list("key", flat=True))
    for entry in entries:
        entry["limits"] = []  # the sheet is present: it is the whole truth for these categories
    extra: dict[str, dict] = {}
    seen: dict[tuple, _Row] = {}
    for row in rows:
        key = _text(row.values.get("key"))
        code = _text(row.values.get("code"))
        target = None
        if key:
            target = by_key.get(key) or extra.get(key)
            if target is None and key in db_keys:
                target = extra.setdefault(key, {"key": key, "limits": []})
            if target is None:
                issues.append(row.issue("key", f"未知的目录键“{key}”。"))
                continue
        elif code:
            candidates = by_code.get(code, [])
            if not candidates:
                owners = {key for (_s, _k, c), key in db_codes.items() if c == code}
                if len(owners) == 1:
                    owner = owners.pop()
                    candidates = [by_key.get(owner) or extra.setdefault(owner, {"key": owner, "limits": []})]
                elif owners:
                    issues.append(row.issue("code", f"编码“{code}”对应多个分类，请填写目录键。"))
                    continue
            if len(candidates) != 1:
                message = "对应多个分类，请填写目录键" if candidates else "未找到对应的分类"
                issues.append(row.issue("code", f"编码“{code}”{message}。"))
                continue
            target = candidates[0]
        else:
            issues.append(row.issue("key", "请填写目录键或编码。"))
            continue
        limit = _validate_limit(row, issues)
        if limit is None:
            continue
        slot = (id(target), limit["stage"], limit["region_class"])
        if slot in seen:
            issues.append(row.issue("stage", f"同一分类的同一环节和区域类别重复（第 {seen[slot].row} 行）。"))
            continue
        seen[slot] = row
        target["limits"].append(limit)
    entries.extend(extra.values())


# --- applying -------------------------------------------------------------------------------


@translation.override("zh-hans")
def catalog_import(*, stream: IO[bytes] | IO[str], file_format: str) -> ImportSummary:
    """Validate a YAML or Excel file and apply it in one transaction, or raise CatalogImportError.

    Categories are matched by 目录键 (else by a code they hold) and updated, or created.
    A category's codes become exactly those in the file. Its time limits are replaced when
    the file gives them (the Excel 时限 sheet or a YAML ``time_limits`` list) and kept when
    it does not. Categories missing from the file are left as they are.
    """
    if file_format == "xlsx":
        parsed = _parse_xlsx(stream)
    elif file_format in {"yaml", "yml"}:
        parsed = _parse_yaml(stream)
    else:
        raise CatalogImportError([ImportIssue("文件", 1, "-", "只支持 .yaml/.yml 或 .xlsx 文件。")])
    if parsed.issues:
        raise CatalogImportError(parsed.issues)
    from civicgrid.audit.services import audit_suppressed

    with transaction.atomic():
        entries = _validate(parsed)
        with audit_suppressed(f"部件事件分类导入（{file_format}）") as batch:
            summary = _apply(entries)
            batch.count(Category, "create", summary.created)
            batch.count(Category, "update", summary.updated)
            batch.count(StageTimeLimit, "create", summary.limits)
        return summary


def catalog_import_file(path: str | Path) -> ImportSummary:
    path = Path(path)
    with open(path, "rb") as fh:
        return catalog_import(stream=io.BytesIO(fh.read()), file_format=path.suffix.lower().lstrip("."))


def _apply(entries: list[dict]) -> ImportSummary:
    summary = ImportSummary()
    units = {u.code: u for u in OrgUnit.objects.all()}
    existing = {c.key: c for c in Category.objects.select_for_update().filter(key__in=[e["key"] for e in entries])}
    categories = []
    for entry in entries:
        category = existing.get(entry["key"])
        if "data" not in entry:  # only named by the limits sheet: its limits change, nothing else
            categories.append((category, entry))
            continue
        if category is None:
            category = Category(**({"key": entry["key"]} if entry["key"] else {}))
            summary.created += 1
        else:
            summary.updated += 1
        category.kind = entry["kind"]
        for name, value in entry["data"].items():
            setattr(category, name, value)
        category.default_handling_unit = units.get(entry["unit"]) if entry["unit"] else None
        category.save()
        categories.append((category, entry))
    # Codes: remove all of the file's categories' codes first, so swaps between them work.
    in_file = [c for c, e in categories if "data" in e]
    CategoryCode.objects.filter(category__in=in_file).delete()
    for category, entry in categories:
        for code in entry.get("codes", []):
            CategoryCode.objects.create(category=category, **code)
        if entry["limits"] is None:
            continue
        category.time_limits.all().delete()
        StageTimeLimit.objects.bulk_create(StageTimeLimit(category=category, **limit) for limit in entry["limits"])
        summary.limits += len(entry["limits"])
    return summary
