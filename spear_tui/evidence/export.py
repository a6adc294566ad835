"""Evidence export: an alert's frames as a new pcapng plus its decoded messages as CSV/Parquet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spear_tui.errors import UserError
from spear_tui.evidence.messages import decode_cut, write_messages
from spear_tui.evidence.pcap import check_unchanged, cut_frames
from spear_tui.store.reader import StoreReader


@dataclass(frozen=True)
class Evidence:
    source: Path
    first_frame: int
    last_frame: int
    pcapng: Path
    frames: int
    messages: int | None  # None when no CSV/Parquet was asked for


def export_evidence(
    source_file: str | Path,
    first_frame: int,
    last_frame: int,
    out_pcapng: str | Path,
    *,
    out_csv: str | Path | None = None,
    out_parquet: str | Path | None = None,
    decode_as: Sequence[str] = (),
    file_index: int = 0,
) -> Evidence:
    """Cut frames first_frame..last_frame of `source_file` into `out_pcapng` and, if asked, write the
    messages in them (source frame numbers, `file` = `file_index`) to CSV and/or Parquet."""
    out = Path(out_pcapng)
    frames = cut_frames(source_file, first_frame, last_frame, out)
    messages = None
    if out_csv is not None or out_parquet is not None:
        table = decode_cut(out, first_frame, file_index, decode_as)
        write_messages(table, Path(out_csv) if out_csv else None, Path(out_parquet) if out_parquet else None)
        messages = table.height
    return Evidence(Path(source_file), first_frame, last_frame, out, frames, messages)


def alert_source(reader: StoreReader, alert_id: int, override: str | Path | None = None) -> tuple[Path, dict]:
    """The capture file an alert's frames are in: `override`, else the session's recorded source
    for `alert.file`, else `alert.source`. Returns (path, recorded {size, mtime} or {})."""
    rec = reader.alert(alert_id)
    if override is not None:
        return Path(override), {}
    candidates = [(rec.source.get("path"), rec.source), (rec.alert.source, {})]
    for path, info in candidates:
        if path and Path(path).is_file():
            return Path(path), info
    named = next((p for p, _ in candidates if p), None)
    if named is None:
        raise UserError(f"alert {alert_id} has no recorded source file; pass --source CAPTURE")
    raise UserError(
        f"alert {alert_id} comes from {named!r}, which is not a capture file here "
        "(moved, or a live interface); pass --source CAPTURE"
    )


def export_alert(
    reader: StoreReader,
    alert_id: int,
    out_pcapng: str | Path,
    *,
    out_csv: str | Path | None = None,
    out_parquet: str | Path | None = None,
    source: str | Path | None = None,
    force: bool = False,
) -> Evidence:
    """`export_evidence` for a stored alert: window, file index and decode-as come from the store."""
    rec = reader.alert(alert_id)
    path, info = alert_source(reader, alert_id, source)
    if not force and info:
        check_unchanged(path, info.get("size"), info.get("mtime"))
    decode_as = rec.session.meta.get("decode_as") or ()
    return export_evidence(
        path, rec.alert.first_frame, rec.alert.last_frame, out_pcapng,
        out_csv=out_csv, out_parquet=out_parquet, decode_as=decode_as, file_index=rec.alert.file,
    )  # fmt: skip
