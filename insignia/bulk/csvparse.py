"""Reading a bulk-issue CSV and writing result CSVs. Pure Python: no Django, no I/O.

The file must be UTF-8 (a byte-order mark is accepted and dropped). The delimiter is sniffed from the
header line among comma, semicolon and tab. Columns:

==================  ========  ==========================================================
column              required  aliases
==================  ========  ==========================================================
recipient           yes       email, e-mail, email address, recipient email
name                no        recipient name, full name
evidence_url        no        evidence, evidence link
evidence_narrative  no        narrative, evidence narrative
award_date          no        date, issued on, issue date (ISO 8601 date or date-time)
==================  ========  ==========================================================

Header names are matched case-insensitively, ignoring spaces, hyphens and underscores at the ends.
Faults of the whole file (encoding, size, header) raise ``CSVFileError``; faults of single rows are
collected as ``RowProblem`` so a preview can list every one of them at once. Row numbers are the
spreadsheet's: the header is row 1, the first recipient row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

#: Limits of one bulk file (the web form and the command line share them).
MAX_BULK_BYTES = 20 * 1024 * 1024
MAX_BULK_ROWS = 100_000
MAX_CELL_CHARS = 2_000
#: An award date may be this far ahead of the clock (machines disagree a little), no further.
FUTURE_SKEW = timedelta(minutes=5)

COLUMNS: tuple[str, ...] = ("recipient", "name", "evidence_url", "evidence_narrative", "award_date")
REQUIRED: tuple[str, ...] = ("recipient",)
ALIASES: dict[str, str] = {
    "email": "recipient",
    "e_mail": "recipient",
    "email_address": "recipient",
    "recipient_email": "recipient",
    "recipient_name": "name",
    "full_name": "name",
    "evidence": "evidence_url",
    "evidence_link": "evidence_url",
    "narrative": "evidence_narrative",
    "date": "award_date",
    "issued_on": "award_date",
    "issue_date": "award_date",
}
DELIMITERS = (",", ";", "\t")
#: Cells starting with one of these are read as formulas by spreadsheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class CSVFileError(ValueError):
    """The file as a whole cannot be read: ``code`` is stable, the message says how to fix it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    """One fault in one cell (or row) of the file."""

    row_number: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row_number, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class ParsedRow:
    """A recipient row; fields hold the cleaned values (raw text where a value was invalid)."""

    row_number: int
    recipient: str
    name: str = ""
    evidence_url: str = ""
    evidence_narrative: str = ""
    award_date: datetime | None = None
    award_date_text: str = ""
    problems: tuple[RowProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ParsedCSV:
    """What the file holds: every row, every problem, and how it was read."""

    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    delimiter: str = ","
    had_bom: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _normalise_header(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def decode(data: bytes) -> tuple[str, bool]:
    """The text of an uploaded file and whether it had a UTF-8 BOM; refuses anything but UTF-8."""
    if len(data) > MAX_BULK_BYTES:
        raise CSVFileError(
            "file_too_large",
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is {MAX_BULK_BYTES // 1_048_576} MB. "
            "Split it into smaller files.",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CSVFileError(
            "not_utf8", "The file is not UTF-8 (it is UTF-16): save it as 'CSV UTF-8' and upload it again."
        )
    had_bom = data.startswith(b"\xef\xbb\xbf")
    if had_bom:
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CSVFileError(
            "not_utf8",
            f"The file is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}): "
            "save it as 'CSV UTF-8' and upload it again.",
        ) from None
    if "\x00" in text:
        raise CSVFileError("not_text", "The file contains NUL bytes: it is not a CSV text file.")
    return text, had_bom


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab outside quotes in the header line (comma on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def is_valid_email(value: str) -> bool:
    """A pragmatic address check: one @, a sane local part and a dotted domain of valid labels."""
    if len(value) > 254 or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _EMAIL_LOCAL.match(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        return False
    return not labels[-1].isdigit()


def is_valid_url(value: str) -> bool:
    """An absolute http(s) URL with a host and no spaces."""
    if any(c.isspace() for c in value) or len(value) > MAX_CELL_CHARS:
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_award_date(value: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC when no offset is given)."""
    value = value.strip()
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _check_row(
    row_number: int, cells: dict[str, str], seen: dict[str, int], now: datetime
) -> ParsedRow:
    problems: list[RowProblem] = []

    def problem(column: str, value: str, reason: str) -> None:
        shown = value if len(value) <= 120 else value[:117] + "…"
        problems.append(RowProblem(row_number, column, shown, reason))

    for column, value in cells.items():
        if len(value) > MAX_CELL_CHARS:
            problem(column, value, f"The cell has {len(value):,} characters; the limit is {MAX_CELL_CHARS:,}.")
    recipient = cells.get("recipient", "").strip()
    award_date: datetime | None = None
    if not recipient:
        problem("recipient", "", "The recipient's email address is empty.")
    elif len(recipient) <= MAX_CELL_CHARS:
        if not is_valid_email(recipient):
            problem("recipient", recipient, "This is not a valid email address.")
        else:
            key = recipient.lower()
            if key in seen:
                problem("recipient", recipient, f"Duplicate recipient: already on row {seen[key]}.")
            else:
                seen[key] = row_number
    evidence_url = cells.get("evidence_url", "").strip()
    if evidence_url and len(evidence_url) <= MAX_CELL_CHARS and not is_valid_url(evidence_url):
        problem("evidence_url", evidence_url, "The evidence URL must be a full http:// or https:// address.")
    date_text = cells.get("award_date", "").strip()
    if date_text and len(date_text) <= MAX_CELL_CHARS:
        try:
            award_date = parse_award_date(date_text)
        except ValueError:
            problem("award_date", date_text, "Not a date: write it as YYYY-MM-DD (or an ISO 8601 date-time).")
        else:
            if award_date > now + FUTURE_SKEW:
                problem("award_date", date_text, "The award date is in the future.")
                award_date = None
    return ParsedRow(
        row_number=row_number,
        recipient=recipient,
        name=cells.get("name", "").strip(),
        evidence_url=evidence_url,
        evidence_narrative=cells.get("evidence_narrative", "").strip(),
        award_date=award_date,
        award_date_text=date_text,
        problems=tuple(problems),
    )


def parse_bulk_csv(data: bytes, *, now: datetime | None = None, max_rows: int = MAX_BULK_ROWS) -> ParsedCSV:
    """Read a bulk-issue CSV: every row and every row problem; whole-file faults raise ``CSVFileError``."""
    now = now or datetime.now(UTC)
    text, had_bom = decode(data)
    if not text.strip():
        raise CSVFileError("empty", "The file is empty: it needs a header row (recipient, name, …) and one row "
                                    "per recipient.")
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    result = ParsedCSV(delimiter=delimiter, had_bom=had_bom)
    seen: dict[str, int] = {}
    header: list[str] | None = None
    try:
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue  # blank lines (often trailing) are not rows
            if header is None:
                header = _read_header(raw)
                result.columns = header
                continue
            row_number = len(result.rows) + 2
            if len(result.rows) >= max_rows:
                result.problems.append(RowProblem(
                    row_number, "", "", f"Too many rows: the limit is {max_rows:,} recipients per file; "
                                        "split the file."))
                break
            if len(raw) > len(header) and any(cell.strip() for cell in raw[len(header):]):
                extra = RowProblem(row_number, "", "", f"Line {line} has {len(raw)} cells but the header has "
                                                       f"{len(header)}: check the delimiter and quotes.")
            else:
                extra = None
            cells = {name: (raw[i] if i < len(raw) else "") for i, name in enumerate(header)}
            row = _check_row(row_number, cells, seen, now)
            if extra is not None:
                row = replace(row, problems=(*row.problems, extra))
            result.rows.append(row)
            result.problems.extend(row.problems)
    except csv.Error as exc:
        raise CSVFileError("malformed", f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if header is None:
        raise CSVFileError("empty", "The file has no header row.")
    if not result.rows and not result.problems:
        raise CSVFileError("no_rows", "The file has a header but no recipients: add one row per recipient.")
    return result


def _read_header(raw: list[str]) -> list[str]:
    names = [_normalise_header(cell) for cell in raw]
    while names and names[-1] == "":
        names.pop()  # trailing empty header cells from spreadsheets
    allowed = ", ".join(COLUMNS)
    unknown = [cell.strip() or "(empty)" for cell, name in zip(raw, names, strict=False) if name not in COLUMNS]
    if unknown:
        raise CSVFileError(
            "unknown_columns",
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"The columns allowed are: {allowed} (recipient is required).",
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CSVFileError("duplicate_columns", f"Column given twice: {', '.join(duplicates)}.")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CSVFileError(
            "missing_columns",
            f"The file needs a '{missing[0]}' column (the recipient's email address). "
            f"The columns allowed are: {allowed}.",
        )
    return names


def neutralise(value: object) -> str:
    """A cell safe to open in a spreadsheet: text that would start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text (comma-separated, CRLF line ends) with every cell formula-neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()
