"""Text and HTML representations of readers, for the REPL and Jupyter (the
errors' own are in exceptions.py).

A reader shows where it reads from, its state, the rows read so far, the skipped
blocks and its schema (the Polars dtype of each column beside its Avro type). Everything
shown comes from the reader's own properties, so nothing here touches the engine
beyond what those properties do, and nothing shows a storage option: secrets
never reach a repr.
"""

from __future__ import annotations

import contextlib
import html
import json
from typing import TYPE_CHECKING, Any

from .exceptions import HTML_STYLE as _STYLE

if TYPE_CHECKING:
    from ._readers import _BaseReader

# How many sources and skipped blocks an HTML repr lists before summarising.
_MAX_SOURCES = 5
_MAX_ERRORS = 10


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def reader_state(reader: _BaseReader) -> str:
    """``"open"``, ``"finished"`` (every batch read) or ``"closed"``."""
    scan = reader._scan
    if scan is None or scan.closed:
        return "closed"
    return "finished" if scan.finished else "open"


def reader_repr(reader: _BaseReader) -> str:
    """``AvroReader('data.avro', open, rows_read=1000, columns=5, errors=0)``."""
    name = type(reader).__name__
    files = reader._scan.files if reader._scan is not None else []
    if name == "AvroReader":
        where = repr(files[0]) if files else "?"
    elif len(files) == 1:
        where = f"[{files[0]!r}]"
    else:
        shown = ", ".join(repr(f) for f in files[:2])
        where = f"[{shown}{', ...' if len(files) > 2 else ''}] ({len(files)} files)"
    columns = len(reader.polars_schema) if reader._scan is not None else 0
    return (
        f"{name}({where}, {reader_state(reader)}, rows_read={reader.rows_read}, "
        f"columns={columns}, errors={_error_count(reader)})"
    )


def _error_count(reader: _BaseReader) -> int:
    try:
        return reader.error_count
    except Exception:  # a repr must not raise, whatever state the engine is in
        return 0


def avro_type(t: Any) -> str:
    """A short text form of an Avro type: ``long``, ``[null, string]``,
    ``array<string>``, ``record Aircraft``, ``timestamp-millis (long)``."""
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "[" + ", ".join(avro_type(b) for b in t) + "]"
    if isinstance(t, dict):
        kind = t.get("type")
        logical = t.get("logicalType")
        if logical:
            base = avro_type({k: v for k, v in t.items() if k != "logicalType"})
            if logical == "decimal":
                return f"decimal({t.get('precision')}, {t.get('scale', 0)}) ({base})"
            return f"{logical} ({base})"
        if kind == "array":
            return f"array<{avro_type(t.get('items'))}>"
        if kind == "map":
            return f"map<{avro_type(t.get('values'))}>"
        if kind in ("record", "error", "enum", "fixed"):
            extra = f"[{t.get('size')}]" if kind == "fixed" else ""
            return f"{kind} {t.get('name', '')}{extra}".rstrip()
        return avro_type(kind)
    return json.dumps(t)


def _avro_field_types(reader: _BaseReader) -> dict[str, str]:
    try:
        schema = reader.schema_dict
    except Exception:
        return {}
    if isinstance(schema, dict) and schema.get("type") == "record":
        return {f["name"]: avro_type(f["type"]) for f in schema.get("fields", [])}
    return {"value": avro_type(schema)}


def reader_html(reader: _BaseReader) -> str:
    """The reader as an HTML block for Jupyter."""
    name = type(reader).__name__
    state = reader_state(reader)
    files = reader._scan.files if reader._scan is not None else []
    rows: list[tuple[str, str]] = []
    if len(files) == 1:
        rows.append(("source", f"<code>{_e(files[0])}</code>"))
    else:
        listed = "<br>".join(f"<code>{_e(f)}</code>" for f in files[:_MAX_SOURCES])
        if len(files) > _MAX_SOURCES:
            listed += f"<br><span class='jl-dim'>… and {len(files) - _MAX_SOURCES} more</span>"
        rows.append((f"sources ({len(files)})", listed))
    rows.append(("rows read", f"{reader.rows_read:,}"))
    rows.append(("batch size", f"{reader.batch_size:,}"))
    errors = []
    with contextlib.suppress(Exception):  # a repr must not raise
        errors = reader.errors
    if errors:
        rows.append(("errors", f"<span class='jl-err'>{len(errors)} skipped block(s)</span>"))
    else:
        rows.append(("errors", "0"))
    head = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    parts = [
        _STYLE,
        "<div class='jetliner-repr'>",
        f"<b>{_e(name)}</b> <span class='jl-dim'>({state})</span>",
        f"<table>{head}</table>",
    ]
    if reader._scan is not None:
        avro = _avro_field_types(reader)
        cols = "".join(
            f"<tr><td>{_e(col)}</td><td>{_e(dtype)}</td><td class='jl-dim'>{_e(avro.get(col, ''))}</td></tr>"
            for col, dtype in reader.polars_schema.items()
        )
        parts.append(
            "<details open><summary>schema</summary><table>"
            "<tr><th>column</th><th>Polars</th><th>Avro</th></tr>"
            f"{cols}</table></details>"
        )
    if errors:
        body = "".join(
            f"<tr><td>{_e(b.kind)}</td><td>{_e(_opt(b.block_index))}</td>"
            f"<td>{_e(_opt(b.record_index))}</td><td>{_e(_opt(b.file_offset))}</td>"
            f"<td>{_e(b.path or '')}</td><td>{_e(b.message)}</td></tr>"
            for b in errors[:_MAX_ERRORS]
        )
        more = ""
        if len(errors) > _MAX_ERRORS:
            more = f"<span class='jl-dim'>… and {len(errors) - _MAX_ERRORS} more</span>"
        parts.append(
            "<details><summary>skipped blocks</summary><table>"
            "<tr><th>kind</th><th>block</th><th>record</th><th>offset</th><th>path</th>"
            f"<th>message</th></tr>{body}</table>{more}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def _opt(v: int | None) -> str:
    return "" if v is None else str(v)
