"""Reading bulk-issue CSV files: each fault yields the right problem; export neutralises formulas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insignia.bulk import csvparse
from insignia.bulk.csvparse import CSVFileError, parse_bulk_csv

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def parse(text: str, **kwargs: object) -> csvparse.ParsedCSV:
    return parse_bulk_csv(text.encode("utf-8"), now=NOW, **kwargs)  # type: ignore[arg-type]


def reasons(parsed: csvparse.ParsedCSV) -> list[tuple[int, str, str]]:
    return [(p.row_number, p.column, p.reason) for p in parsed.problems]


def test_a_good_file_reads_every_column() -> None:
    parsed = parse(
        "recipient,name,evidence_url,evidence_narrative,award_date\n"
        "ada@example.org,Ada Lovelace,https://example.org/engine,Wrote the first program,2025-03-01\n"
        "grace@example.org,Grace Hopper,,,2025-03-02T10:30:00+02:00\n"
    )
    assert parsed.ok
    assert parsed.columns == list(csvparse.COLUMNS)
    first, second = parsed.rows
    assert (first.row_number, first.recipient, first.name) == (2, "ada@example.org", "Ada Lovelace")
    assert first.evidence_url == "https://example.org/engine"
    assert first.evidence_narrative == "Wrote the first program"
    assert first.award_date == datetime(2025, 3, 1, tzinfo=UTC)
    assert second.row_number == 3
    assert second.award_date == datetime(2025, 3, 2, 8, 30, tzinfo=UTC)


def test_utf8_with_bom_is_accepted_and_the_bom_dropped() -> None:
    parsed = parse_bulk_csv("recipient,name\nzoë@example.org,Zoë\n".encode("utf-8-sig"), now=NOW)
    assert parsed.had_bom
    assert parsed.columns == ["recipient", "name"]  # not "\ufeffrecipient"
    assert parsed.rows[0].name == "Zoë"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_file_that_is_not_utf8_is_refused_with_the_fix(encoding: str) -> None:
    with pytest.raises(CSVFileError) as info:
        parse_bulk_csv("recipient,name\nzoe@example.org,Zoë Müller\n".encode(encoding), now=NOW)
    assert info.value.code == "not_utf8"
    assert "not UTF-8" in info.value.message
    assert "CSV UTF-8" in info.value.message
    assert "line 2" in info.value.message


def test_utf16_is_refused() -> None:
    with pytest.raises(CSVFileError) as info:
        parse_bulk_csv("recipient\nzoe@example.org\n".encode("utf-16"), now=NOW)
    assert info.value.code == "not_utf8"
    assert "UTF-16" in info.value.message


@pytest.mark.parametrize(("text", "delimiter"), [
    ("recipient;name\nada@example.org;Ada\n", ";"),
    ("recipient\tname\nada@example.org\tAda\n", "\t"),
    ('"recipient","name"\n"ada@example.org","Lovelace; Ada"\n', ","),
])
def test_the_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    parsed = parse(text)
    assert parsed.delimiter == delimiter
    assert parsed.rows[0].recipient == "ada@example.org"
    assert parsed.ok


def test_aliases_and_header_spelling_are_accepted() -> None:
    parsed = parse("Email , Full Name,Evidence URL,Narrative,Date\nada@example.org,Ada,,,\n")
    assert parsed.columns == ["recipient", "name", "evidence_url", "evidence_narrative", "award_date"]


def test_unknown_columns_are_listed_with_the_allowed_ones() -> None:
    with pytest.raises(CSVFileError) as info:
        parse("recipient,name,score,Department\nada@example.org,Ada,10,Maths\n")
    assert info.value.code == "unknown_columns"
    assert "score" in info.value.message
    assert "Department" in info.value.message
    for column in csvparse.COLUMNS:
        assert column in info.value.message


def test_the_recipient_column_is_required() -> None:
    with pytest.raises(CSVFileError) as info:
        parse("name\nAda\n")
    assert info.value.code == "missing_columns"


def test_an_empty_file_and_a_header_only_file_are_refused() -> None:
    with pytest.raises(CSVFileError, match="empty"):
        parse("")
    with pytest.raises(CSVFileError) as info:
        parse("recipient,name\n\n")
    assert info.value.code == "no_rows"


def test_invalid_email() -> None:
    parsed = parse("recipient\nada@example.org\nnot-an-email\nbob@@example.org\ncarol@localhost\n")
    assert reasons(parsed) == [
        (3, "recipient", "This is not a valid email address."),
        (4, "recipient", "This is not a valid email address."),
        (5, "recipient", "This is not a valid email address."),
    ]


def test_empty_recipient() -> None:
    parsed = parse("recipient,name\n,Nobody\n")
    assert reasons(parsed) == [(2, "recipient", "The recipient's email address is empty.")]


def test_duplicate_recipient_names_the_first_row() -> None:
    parsed = parse("recipient\nada@example.org\ngrace@example.org\nADA@example.org\n")
    assert reasons(parsed) == [(4, "recipient", "Duplicate recipient: already on row 2.")]


def test_invalid_url_and_bad_date() -> None:
    parsed = parse(
        "recipient,evidence_url,award_date\n"
        "ada@example.org,javascript:alert(1),2025-02-30\n"
        "bob@example.org,https://example.org/ok,2030-01-01\n"
    )
    assert [(r, c) for r, c, _ in reasons(parsed)] == [(2, "evidence_url"), (2, "award_date"), (3, "award_date")]
    assert "future" in parsed.problems[2].reason


def test_oversized_cell() -> None:
    long_narrative = "x" * (csvparse.MAX_CELL_CHARS + 1)
    parsed = parse(f"recipient,evidence_narrative\nada@example.org,{long_narrative}\n")
    (problem,) = parsed.problems
    assert (problem.row_number, problem.column) == (2, "evidence_narrative")
    assert "limit is 2,000" in problem.reason
    assert len(problem.value) < 200  # the preview shows a shortened value


def test_too_many_rows() -> None:
    rows = "".join(f"r{i}@example.org\n" for i in range(5))
    parsed = parse("recipient\n" + rows, max_rows=3)
    assert len(parsed.rows) == 3
    assert reasons(parsed) == [(5, "", "Too many rows: the limit is 3 recipients per file; split the file.")]


def test_an_oversized_file_is_refused_before_reading() -> None:
    with pytest.raises(CSVFileError) as info:
        parse_bulk_csv(b"recipient\n" + b"a" * (csvparse.MAX_BULK_BYTES + 1), now=NOW)
    assert info.value.code == "file_too_large"


def test_extra_cells_are_reported() -> None:
    parsed = parse("recipient,name\nada@example.org,Ada,oops\n")
    (problem,) = parsed.problems
    assert "3 cells" in problem.reason


def test_blank_lines_and_crlf_are_fine() -> None:
    parsed = parse("recipient,name\r\n\r\nada@example.org,\"Ada\r\nLovelace\"\r\n\r\n")
    assert parsed.ok
    assert parsed.rows[0].name == "Ada\r\nLovelace"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_export_neutralises_formulas(value: str) -> None:
    assert csvparse.neutralise(value) == "'" + value
    text = csvparse.write_csv(["a"], [[value]])
    assert text.splitlines()[1].lstrip('"').startswith("'")


def test_export_leaves_ordinary_text_alone() -> None:
    assert csvparse.neutralise("ada@example.org") == "ada@example.org"
    assert csvparse.neutralise(None) == ""
    assert csvparse.neutralise(42) == "42"
