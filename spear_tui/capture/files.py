"""Checking capture files before tshark sees them, so bad input is one clear line, not a tshark dump."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from spear_tui.capture.tshark import find_tool
from spear_tui.errors import UserError


@dataclass(frozen=True)
class FileInfo:
    path: str
    packets: int
    start: float | None
    end: float | None
    warning: str | None  # e.g. truncated: tshark reads what it can
    data_bytes: int = 0  # packet data in the file (uncompressed): what tshark's work grows with


def check_readable(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such file")
    if p.is_dir():
        raise UserError(f"{p}: is a directory, not a capture file")
    if not os.access(p, os.R_OK):
        raise UserError(f"{p}: permission denied")
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise UserError(f"{p}: cannot open ({exc.strerror})") from None
    if p.stat().st_size == 0:
        raise UserError(f"{p}: empty file, not a capture")
    return str(p)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def file_info(path: str | Path) -> FileInfo:
    """Packet count and time range via capinfos (reads the file, no dissection)."""
    path = check_readable(path)
    proc = subprocess.run(
        [find_tool("capinfos"), "-T", "-r", "-c", "-d", "-a", "-e", "-S", path],
        capture_output=True,
        text=True,
        errors="replace",
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    errors = [
        ln.removeprefix("capinfos: ").strip()
        for ln in proc.stderr.splitlines()
        if ln.strip() and "continue anyway" not in ln
    ]
    if not lines:
        reason = errors[0] if errors else f"capinfos exit code {proc.returncode}"
        if "isn't a capture file" in reason or "understands" in reason:
            reason = "not a capture file tshark can read (pcap, pcapng, ...)"
        raise UserError(f"{path}: {reason}")
    parts = lines[-1].split("\t")  # name, packets, data size, start, end
    if len(parts) < 5:
        raise UserError(f"{path}: cannot read capture summary")
    warning = errors[-1] if proc.returncode != 0 and errors else None
    packets = int(parts[1])
    if packets == 0 and warning is None:
        # A valid but empty capture, or bytes that happen to parse as some exotic format (about 1 in
        # 130 random 4 KiB files does, e.g. as Ixia .vwr): say so rather than report silence.
        warning = "contains no packets"
    data = _float(parts[2])
    return FileInfo(path, packets, _float(parts[3]), _float(parts[4]), warning, int(data or 0))
