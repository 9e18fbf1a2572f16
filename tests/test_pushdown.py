"""scan_avro pushes projection, n_rows/head() and filters into the reader.

The engine's counters (`jetliner._api._last_scan_stats`) show what the reader did,
so these tests check that work was saved, not only that results are right.
"""

from __future__ import annotations

from pathlib import Path

import jetliner
import polars as pl
import pytest
from jetliner import _api
from polars.testing import assert_frame_equal

N = 50_000
SCHEMA = {
    "type": "record",
    "name": "Sale",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "amount", "type": "double"},
        {"name": "status", "type": "string"},
        {"name": "note", "type": ["null", "string"]},
        {"name": "items", "type": {"type": "array", "items": "long"}},
    ],
}


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import fastavro

    path = tmp_path_factory.mktemp("pushdown") / "sales.avro"
    rows = (
        {
            "user_id": i,
            "amount": (i * 37 % 1000) / 4,
            "status": ("active", "closed", "pending")[i % 3],
            "note": None if i % 5 else f"note {i}",
            "items": list(range(i % 4)),
        }
        for i in range(N)
    )
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(SCHEMA), rows, codec="deflate", sync_interval=8000)
    return path


@pytest.fixture(scope="module")
def full(sales: Path) -> pl.DataFrame:
    return jetliner.read_avro(sales)


def stats() -> dict:
    return dict(_api._last_scan_stats)


def total_blocks(path: Path) -> int:
    with jetliner.open(path) as reader:
        for _ in reader:
            pass
        return reader._stats()["blocks_read"]


def test_projection_decodes_only_selected_columns(sales: Path, full: pl.DataFrame) -> None:
    out = jetliner.scan_avro(sales).select("amount", "user_id").collect()
    assert_frame_equal(out, full.select("amount", "user_id"))
    assert sorted(stats()["columns"]) == ["amount", "user_id"]


def test_no_projection_decodes_everything(sales: Path, full: pl.DataFrame) -> None:
    assert_frame_equal(jetliner.scan_avro(sales).collect(), full)
    assert stats()["columns"] == ["user_id", "amount", "status", "note", "items"]


def test_head_stops_reading_early(sales: Path, full: pl.DataFrame) -> None:
    blocks = total_blocks(sales)
    assert blocks > 20
    # Small reads, so the bytes counter can show how little of the file was touched.
    out = jetliner.scan_avro(sales, read_chunk_size=16_384).head(1000).collect()
    assert_frame_equal(out, full.head(1000))
    s = stats()
    assert s["rows_read"] == 1000
    assert s["blocks_read"] < blocks / 4
    assert s["bytes_read"] < sales.stat().st_size / 4


def test_n_rows_option_stops_reading_early(sales: Path, full: pl.DataFrame) -> None:
    blocks = total_blocks(sales)
    out = jetliner.scan_avro(sales, n_rows=10).collect()
    assert_frame_equal(out, full.head(10))
    assert stats()["blocks_read"] <= 2 < blocks


def test_predicate_is_applied(sales: Path, full: pl.DataFrame) -> None:
    pred = (pl.col("status") == "active") & (pl.col("amount") > 100)
    out = jetliner.scan_avro(sales).filter(pred).collect()
    assert_frame_equal(out, full.filter(pred))
    assert out.height > 0


def test_combined_select_filter_head(sales: Path, full: pl.DataFrame) -> None:
    query = lambda lf: (  # noqa: E731
        lf.select("user_id", "amount", "status").filter(pl.col("amount") > 100).head(500)
    )
    out = query(jetliner.scan_avro(sales)).collect()
    assert_frame_equal(out, query(full.lazy()).collect())
    assert sorted(stats()["columns"]) == ["amount", "status", "user_id"]


def test_head_then_filter_keeps_polars_semantics(sales: Path, full: pl.DataFrame) -> None:
    # head() before a filter limits the rows the filter sees.
    query = lambda lf: lf.head(100).filter(pl.col("status") == "closed")  # noqa: E731
    assert_frame_equal(query(jetliner.scan_avro(sales)).collect(), query(full.lazy()).collect())


def test_row_index_with_projection_and_filter(sales: Path, full: pl.DataFrame) -> None:
    lf = jetliner.scan_avro(sales, row_index_name="idx")
    out = lf.select("idx", "status").filter(pl.col("status") == "pending").collect()
    want = full.with_row_index("idx").select("idx", "status").filter(pl.col("status") == "pending")
    assert_frame_equal(out, want)
    assert stats()["columns"] == ["status"]


def test_projection_without_row_index_column(sales: Path, full: pl.DataFrame) -> None:
    lf = jetliner.scan_avro(sales, row_index_name="idx", include_file_paths="path")
    assert lf.collect_schema().names() == ["idx", "user_id", "amount", "status", "note", "items", "path"]
    out = lf.select("note").collect()
    assert_frame_equal(out, full.select("note"))


def test_projection_of_only_generated_columns(sales: Path) -> None:
    out = jetliner.scan_avro(sales, row_index_name="idx").select("idx").head(5).collect()
    assert out["idx"].to_list() == [0, 1, 2, 3, 4]
    assert stats()["columns"] == []


def test_explain_names_the_scan(sales: Path) -> None:
    assert "jetliner" in jetliner.scan_avro(sales).select("amount").explain()
