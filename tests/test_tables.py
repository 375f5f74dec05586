"""grocery.tables: the one suffix map, reader and writer of table files, and their refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from grocery.errors import UserError
from grocery.tables import FORMATS, check_output, read_table, table_kind, write_table

FRAME = pd.DataFrame({"day": ["2024-01-01", "2024-01-02"], "units": [1.5, 2.5]})


def refused(call, message: str) -> None:
    with pytest.raises(UserError) as error:
        call()
    assert str(error.value) == message


@pytest.mark.parametrize(("name", "kind"), [
    ("sales.csv", "csv"), ("SALES.CSV", "csv"), ("sub/sales.parquet", "parquet"),
    ("sales.pq", "parquet"), ("https://example.invalid/t.pq?token=1", "parquet"),
    (Path("runs:/abc/tables/t.csv"), "csv"),
])
def test_kind_by_suffix(name, kind):
    assert table_kind(name) == kind


def test_one_map_of_suffixes():
    assert FORMATS == {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
    refused(lambda: table_kind("sales.xlsx"),
            "sales.xlsx: not a .csv or .parquet file; name the file with one of those suffixes")


@pytest.mark.parametrize("name", ["a.csv", "sub/b.parquet", "c.pq"])
def test_tables_round_trip_by_suffix(tmp_path, name):
    path = write_table(FRAME, tmp_path / name)
    assert path == tmp_path / name
    pd.testing.assert_frame_equal(read_table(path), FRAME)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{name}: no such file"),
        (b"", "{name}: the file is empty"),
        (b"\n\n", "{name}: the file is empty"),
    ],
    ids=["missing", "empty", "blank-lines"],
)
def test_missing_and_empty_files(tmp_path, content, message):
    path = tmp_path / "sales.csv"
    if content is not None:
        path.write_bytes(content)
    refused(lambda: read_table(path), message.format(name=path))


def test_a_relative_path_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(lambda: read_table("sales.csv"),
            f"sales.csv: no such file (looked for {tmp_path / 'sales.csv'})")


def test_a_local_copy_is_named_as_the_user_gave_it(tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_text("day,units\n2024-01-01,1\n2024-01-02,2,3,4\n")
    refused(lambda: read_table(copy, "https://example.invalid/sales.csv"),
            "https://example.invalid/sales.csv: cannot read it as csv: Error tokenizing data. "
            "C error: Expected 2 fields in line 3, saw 4")


def test_unreadable_files(tmp_path):
    garbage = tmp_path / "sales.parquet"
    garbage.write_bytes(b"this is not parquet")
    with pytest.raises(UserError) as error:
        read_table(garbage, "sales.parquet")
    assert str(error.value).startswith("sales.parquet: cannot read it as parquet: ")
    assert "\n" not in str(error.value)


def test_a_header_without_rows_is_read(tmp_path):
    """Whether no rows is a fault is the caller's to say (own data refuses it, predict too)."""
    path = tmp_path / "header.csv"
    path.write_text("day,units\n")
    assert list(read_table(path).columns) == ["day", "units"]


def test_unwritable_and_misnamed_outputs(tmp_path):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(UserError, match=r"^cannot write '.*file/out\.csv': "):
        write_table(FRAME, tmp_path / "file" / "out.csv")
    refused(lambda: write_table(FRAME, tmp_path / "out.json"),
            f"{tmp_path / 'out.json'}: not a .csv or .parquet file; name the file with one of "
            "those suffixes")


def test_a_table_is_renamed_into_place_and_a_failed_write_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.parquet"
    write_table(FRAME, target)
    write_table(FRAME.assign(units=[9.0, 9.0]), target)  # over an existing table
    assert read_table(target)["units"].tolist() == [9.0, 9.0]
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error: not a table it can write
        write_table(pd.DataFrame({"units": [object()]}), target)
    assert read_table(target)["units"].tolist() == [9.0, 9.0]
    assert [path.name for path in tmp_path.iterdir()] == ["out.parquet"]  # no partial file left


def test_an_output_may_not_be_its_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "history.csv"
    source.write_text("day,units\n")
    (tmp_path / "link.csv").symlink_to(source)
    message = "{}: this is the input file; write the output to another file"
    for output in (source, "history.csv", "./sub/../history.csv", "link.csv"):
        refused(lambda output=output: check_output(output, source), message.format(output))
    check_output("forecast.csv", source)
    check_output("history.csv", "")  # no input: the catalog's own days
    refused(lambda: check_output("forecast.txt", source),
            "forecast.txt: not a .csv or .parquet file; name the file with one of those suffixes")
