"""Cutting an alert's frames out of its source capture with editcap (Wireshark's own tool).

The frames are copied byte for byte (`editcap -r SRC OUT first-last`): the evidence is the original
traffic, not a re-encoding, and frame k of the cut is frame first_frame+k-1 of the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from spear_tui.errors import UserError
from spear_tui.report.text import inert


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name} not found: install Wireshark's command-line tools (Debian: tshark)")
    return path


def count_frames(capture: Path) -> int:
    """Number of packets in a capture file, as capinfos counts them."""
    proc = subprocess.run(
        [_tool("capinfos"), "-c", "-M", "-T", "-r", str(capture)], capture_output=True, text=True, timeout=300
    )
    try:
        return int(proc.stdout.strip().split("\t")[-1])
    except (ValueError, IndexError):
        msg = inert(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output")
        raise UserError(f"capinfos cannot read {capture}: {msg}") from None


def check_unchanged(source: Path, size: int | None, mtime: float | None) -> None:
    """Refuse a source file whose size or mtime differs from when it was scanned: its frame numbers
    may no longer point at the alert's packets."""
    st = source.stat()
    if size is not None and st.st_size != size:
        raise UserError(
            f"{source} changed since it was scanned (size {size} then, {st.st_size} now); "
            "its frame numbers may not match the alert (use --force to cut it anyway)"
        )
    if mtime is not None and abs(st.st_mtime - mtime) > 1e-3:
        raise UserError(
            f"{source} was modified since it was scanned; its frame numbers may not match the alert "
            "(use --force to cut it anyway)"
        )


def cut_frames(source: str | Path, first_frame: int, last_frame: int, out_pcapng: str | Path) -> int:
    """Write frames first_frame..last_frame (1-based, inclusive) of `source` to `out_pcapng` (pcapng,
    written atomically). Returns the number of frames written; a window the file does not fully hold
    is a UserError (the file was replaced or truncated since the scan)."""
    source, out = Path(source), Path(out_pcapng)
    if not source.is_file():
        raise UserError(f"capture file not found: {source}")
    if first_frame < 1 or last_frame < first_frame:
        raise UserError(f"bad frame window {first_frame}..{last_frame}")
    if not out.parent.is_dir():
        raise UserError(f"output directory does not exist: {out.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".pcapng", dir=out.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [_tool("editcap"), "-F", "pcapng", "-r", str(source), tmp, f"{first_frame}-{last_frame}"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wanted = last_frame - first_frame + 1
        got = count_frames(Path(tmp)) if Path(tmp).stat().st_size else 0
        if got != wanted:
            why = inert(proc.stderr.strip().splitlines()[-1]) if proc.stderr.strip() else ""
            if got == 0 and why:
                raise UserError(f"editcap cannot cut {source}: {why}")
            raise UserError(
                f"{source} holds only {got} of the alert's {wanted} frames ({first_frame}..{last_frame}); "
                "was it replaced or truncated since the scan?"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        return got
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
