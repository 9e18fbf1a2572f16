"""repr() and _repr_html_() of readers and errors: what a REPL and Jupyter show."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import jetliner
import pytest
from jetliner._repr import avro_type

SCHEMA = {
    "type": "record",
    "name": "Event",
    "namespace": "test",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "note", "type": ["null", "string"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "kind": "AB"[i % 2],
            "note": None if i % 3 else f"n{i}",
            "at": i * 1000,
            "tags": ["x"] * (i % 3),
        }
        for i in range(n)
    ]


@pytest.fixture
def path(write_avro: Any) -> Path:
    return write_avro(SCHEMA, records(1000), sync_interval=2000)  # type: ignore[no-any-return]


def test_avro_reader_repr_follows_its_state(path: Path) -> None:
    reader = jetliner.open(path, batch_size=300)
    assert repr(reader) == f"AvroReader({str(path)!r}, open, rows_read=0, columns=5, errors=0)"
    first = next(reader)  # whole blocks: a batch may be a little larger than batch_size
    assert repr(reader) == f"AvroReader({str(path)!r}, open, rows_read={first.height}, columns=5, errors=0)"
    list(reader)
    assert repr(reader) == f"AvroReader({str(path)!r}, finished, rows_read=1000, columns=5, errors=0)"
    reader.close()
    assert repr(reader) == f"AvroReader({str(path)!r}, closed, rows_read=1000, columns=5, errors=0)"


def test_multi_reader_repr_lists_sources(write_avro: Any, tmp_path: Path) -> None:
    paths = [write_avro(SCHEMA, records(10), name=f"p{k}.avro") for k in range(3)]
    with jetliner.MultiAvroReader(str(tmp_path / "p*.avro"), projected_columns=["id", "kind"]) as reader:
        text = repr(reader)
    assert text == (
        f"MultiAvroReader([{str(paths[0])!r}, {str(paths[1])!r}, ...] (3 files), "
        "open, rows_read=0, columns=2, errors=0)"
    )
    with jetliner.MultiAvroReader(paths[0]) as reader:
        assert repr(reader).startswith(f"MultiAvroReader([{str(paths[0])!r}], open,")


def test_reader_html_shows_source_state_rows_and_schema(path: Path) -> None:
    with jetliner.open(path, batch_size=400) as reader:
        first = next(reader)
        page = reader._repr_html_()
    assert "<b>AvroReader</b>" in page
    assert "(open)" in page
    assert f"<code>{path}</code>" in page
    assert f"<th>rows read</th><td>{first.height}</td>" in page
    assert "<th>batch size</th><td>400</td>" in page
    assert "<th>errors</th><td>0</td>" in page
    # Each column with its Polars dtype and its Avro type.
    for column, polars_type, avro in [
        ("id", "Int64", "long"),
        ("note", "String", "[null, string]"),
        ("at", html.escape(str(reader.polars_schema["at"])), "timestamp-millis (long)"),
        ("tags", "List(String)", "array&lt;string&gt;"),
        ("kind", html.escape(str(reader.polars_schema["kind"])), "enum test.Kind"),
    ]:
        assert f"<tr><td>{column}</td><td>{polars_type}</td><td class='jl-dim'>{avro}</td></tr>" in page
    assert "(closed)" in reader._repr_html_()


def test_reader_html_escapes_paths(write_avro: Any, tmp_path: Path) -> None:
    odd = write_avro(SCHEMA, records(5), name="a&b<script>.avro")
    with jetliner.open(odd) as reader:
        page = reader._repr_html_()
    assert "<script>" not in page
    assert "a&amp;b&lt;script&gt;.avro" in page


def test_reader_html_lists_many_sources_briefly(write_avro: Any, tmp_path: Path) -> None:
    for k in range(8):
        write_avro(SCHEMA, records(2), name=f"s{k}.avro")
    with jetliner.MultiAvroReader(str(tmp_path / "s*.avro")) as reader:
        page = reader._repr_html_()
    assert "sources (8)" in page
    assert page.count("<code>") == 5
    assert "and 3 more" in page


def _corrupt(write_avro: Any, tmp_path: Path) -> Path:
    """A file whose second block's sync marker is broken."""
    good = write_avro(SCHEMA, records(3000), sync_interval=2000)
    data = bytearray(good.read_bytes())
    sync = bytes(data[-16:])  # every block, and the header, ends with the marker
    first = data.index(sync) + 16  # the end of the header
    second_end = data.index(sync, data.index(sync, first) + 16)
    data[second_end] ^= 0xFF
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    return bad


def test_reprs_show_skipped_blocks(write_avro: Any, tmp_path: Path) -> None:
    bad = _corrupt(write_avro, tmp_path)
    with jetliner.open(bad, ignore_errors=True) as reader:
        list(reader)
        text = repr(reader)
        page = reader._repr_html_()
        (err,) = reader.errors
    assert text.endswith(f"errors={reader.error_count})")
    assert reader.error_count == 1
    assert "1 skipped block(s)" in page
    assert "<summary>skipped blocks</summary>" in page
    assert f"<td>{err.kind}</td><td>{err.block_index}</td><td></td><td>{err.file_offset}</td>" in page
    assert html.escape(err.message) in page


def test_error_repr_and_html(write_avro: Any, tmp_path: Path) -> None:
    with pytest.raises(jetliner.FileNotFoundError) as info:
        jetliner.read_avro(tmp_path / "missing.avro")
    err = info.value
    missing = str(tmp_path / "missing.avro")
    assert repr(err) == f"FileNotFoundError(message={err.message!r}, variant='NotFound', path={missing!r})"
    page = err._repr_html_()
    assert "<b class='jl-err'>FileNotFoundError</b>" in page
    assert f"<tr><th>path</th><td>{missing}</td></tr>" in page

    bad = _corrupt(write_avro, tmp_path)
    with pytest.raises(jetliner.ParseError) as parse_info:
        jetliner.read_avro(bad)
    perr = parse_info.value
    assert repr(perr) == (
        f"ParseError(message={perr.message!r}, variant={perr.variant!r}, path={str(bad)!r}, "
        f"file_offset={perr.file_offset}, block_index={perr.block_index}, record_index=None, "
        "block_offset=None)"
    )
    page = perr._repr_html_()
    assert f"<tr><th>block_index</th><td>{perr.block_index}</td></tr>" in page
    assert "record_index" not in page  # unknown fields are left out
    assert perr.variant == "InvalidSyncMarker"

    conf = jetliner.ConfigurationError("batch_size must be at least 1, got <0>")
    assert repr(conf) == (
        "ConfigurationError(message='batch_size must be at least 1, got <0>', "
        "variant='Configuration', path=None)"
    )
    assert "got &lt;0&gt;" in conf._repr_html_()


def test_bad_block_error_repr_is_kept(write_avro: Any, tmp_path: Path) -> None:
    bad = _corrupt(write_avro, tmp_path)
    with jetliner.open(bad, ignore_errors=True) as reader:
        list(reader)
        (err,) = reader.errors
    assert repr(err).startswith(f"BadBlockError(kind='ParseError', block_index={err.block_index},")
    assert "<tr><th>kind</th><td>ParseError</td></tr>" in err._repr_html_()


def test_no_secret_in_reader_reprs(path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
    options = {"aws_access_key_id": "AKIAEXAMPLEKEY000001", "aws_secret_access_key": secret}
    with jetliner.open(path, storage_options=options) as reader:
        shown = repr(reader) + reader._repr_html_()
    assert secret not in shown
    assert "AKIAEXAMPLEKEY000001" not in shown


@pytest.mark.parametrize(
    ("avro", "text"),
    [
        ("long", "long"),
        (["null", "string"], "[null, string]"),
        ({"type": "array", "items": {"type": "map", "values": "int"}}, "array<map<int>>"),
        ({"type": "record", "name": "R", "fields": []}, "record R"),
        ({"type": "fixed", "name": "F", "size": 16}, "fixed F[16]"),
        ({"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}, "decimal(9, 2) (bytes)"),
        ({"type": "string", "logicalType": "uuid"}, "uuid (string)"),
        ({"type": "int"}, "int"),
    ],
)
def test_avro_type_text(avro: Any, text: str) -> None:
    assert avro_type(avro) == text
