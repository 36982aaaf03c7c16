"""CSV import of registrations: every bad row reported by line, good rows written whole.

Rows are validated first (no writes), then written in batches; each row sits in its own
savepoint, so a row that fails at write time (a duplicate that appeared meanwhile) is rolled
back alone and nothing is ever half-written.

Files come from Excel: "CSV UTF-8" (with a BOM) or plain "CSV", which Chinese Windows saves in
GBK; `decode_csv` reads UTF-8 with or without BOM, else GB18030 (a superset of GBK).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from farmer_mailbox.accounts import Accounts, Prepared, RegistrationForm, fail
from farmer_mailbox.scoping import Actor
from farmer_mailbox.validation import ValidationError

REQUIRED_COLUMNS = ("name", "id_number", "phone", "village")
OPTIONAL_COLUMNS = ("role", "interests", "liaison_point", "county")
# Chinese headers liaisons are likely to use, mapped to ours.
HEADER_ALIASES = {
    "姓名": "name", "身份证号": "id_number", "身份证": "id_number", "手机号": "phone", "手机": "phone",
    "村": "village", "村名": "village", "角色": "role", "关注": "interests", "作物": "interests",
    "联络点": "liaison_point", "县": "county",
}
BATCH = 500


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused row: its line in the file, the reason code and the message."""

    line: int
    code: str
    message: str


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows read, rows imported, and every refused row."""

    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)   # header names that are none of our columns

    def summary(self) -> str:
        """One line for people: imported n of m, k refused."""
        return f"imported {self.imported} of {self.rows} rows, {len(self.errors)} refused"


class CsvFormatError(ValueError):
    """The file is not a usable CSV (no header, missing columns)."""


def decode_csv(data: bytes) -> str:
    """The text of a CSV file in UTF-8 (BOM or not) or GB18030/GBK; CsvFormatError when neither."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"not UTF-8 or GBK/GB18030 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it from Excel as “CSV UTF-8” and try again") from None


def _column(name: str) -> str:
    clean = name.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(clean, clean.lower())


Row = tuple[int, RegistrationForm | ValidationError]


def read_forms(lines: Iterable[str], report: ImportReport | None = None) -> Iterable[Row]:
    """Yield (line number, form) for each data row, or the reason the row cannot be read; raise
    CsvFormatError on a bad header. The report learns the columns that are ignored."""
    reader = csv.reader(lines)
    try:
        yield from _rows(reader, report or ImportReport())
    except csv.Error as exc:   # a NUL byte, an unclosed quote at the end: not a CSV we can read
        raise CsvFormatError(f"line {reader.line_num}: not readable as CSV ({exc})") from None


def header_columns(header: list[str]) -> list[str]:
    """Our column names for a header line; CsvFormatError when a needed one is missing or one is
    named twice (姓名 and name: which one counts?)."""
    columns = [_column(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        hint = next((f"; the file seems separated by {sep!r}, not commas" for sep in (";", "\t", "|")
                     if len(header) == 1 and sep in header[0]), "")
        raise CsvFormatError(f"missing column(s): {', '.join(missing)} (header: {','.join(header)}){hint}")
    named = [c for c in columns if c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise CsvFormatError(f"column(s) named more than once: {', '.join(twice)} (header: {','.join(header)})")
    return columns


def ignored_columns(header: list[str]) -> list[str]:
    """Header names that are none of ours (a typo such as "interest" would drop that column silently)."""
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    return [h.strip() for h, c in zip(header, (_column(h) for h in header), strict=True) if c not in known
            and h.strip().lstrip("\ufeff")]


def _rows(reader: Any, report: ImportReport) -> Iterable[Row]:
    header = next(reader, None)
    if not header:
        raise CsvFormatError("the file is empty: expected a header line " + ",".join(REQUIRED_COLUMNS))
    columns = header_columns(header)
    report.ignored = ignored_columns(header)
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if any(v.strip() for v in values[len(columns):]):   # shifted by a comma inside a value
            yield reader.line_num, fail("csv.extra_values")
            continue
        row = dict(zip(columns, values, strict=False))
        interests = tuple(w for w in re.split(r"[;；、,，\s]+", row.get("interests", "")) if w)
        yield reader.line_num, RegistrationForm(
            name=row.get("name", ""), id_number=row.get("id_number", ""), phone=row.get("phone", ""),
            village=row.get("village", ""), role=row.get("role", "") or "farmer", interests=interests,
            liaison_point=row.get("liaison_point", ""), county=row.get("county", ""),
        )


async def _prepare_all(
    accounts: Accounts, actor: Actor, forms: Iterable[Row], report: ImportReport, tick: Callable[[int], None],
) -> list[tuple[int, Prepared]]:
    ready: list[tuple[int, Prepared]] = []
    seen: dict[str, int] = {}
    for line, form in forms:
        report.rows += 1
        tick(1)
        try:
            if isinstance(form, ValidationError):
                raise form
            prepared = await accounts.prepare(actor, form)
            for key in (prepared.new.id_hash, prepared.new.phone):
                if key in seen:
                    raise fail("duplicate.in_file", line=seen[key])
            seen[prepared.new.id_hash] = seen[prepared.new.phone] = line
            ready.append((line, prepared))
        except ValidationError as exc:
            report.errors.append(RowError(line, exc.code, exc.message))
    return ready


async def import_users(
    accounts: Accounts, actor: Actor, lines: Iterable[str],
    tick: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Import registrations from CSV lines as `actor`; return the report."""
    report = ImportReport()
    ready = await _prepare_all(accounts, actor, read_forms(lines, report), report, tick)
    for start in range(0, len(ready), BATCH):
        async with accounts.store.transaction() as tx:
            for line, prepared in ready[start : start + BATCH]:
                try:
                    await tx.savepoint("row")
                    await accounts.insert_prepared(tx, actor, prepared)
                    await tx.release("row")
                    report.imported += 1
                except ValidationError as exc:
                    await tx.rollback_to("row")
                    report.errors.append(RowError(line, exc.code, exc.message))
    report.errors.sort(key=lambda e: e.line)
    return report
