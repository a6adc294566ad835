"""Evidence pcapng: tshark opens it and it holds exactly the window's frames, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from spear_tui.errors import UserError
from spear_tui.events import Alert
from spear_tui.evidence import export_alert, export_evidence
from spear_tui.store import AlertStore, open_store

REAL = Path(__file__).parents[1] / "data" / "real"
CAPTURE = REAL / "modbus" / "iti_bro_modbusSmall.pcap"  # 166 frames of real Modbus/TCP

pytestmark = pytest.mark.skipif(
    shutil.which("tshark") is None or shutil.which("editcap") is None, reason="tshark/editcap not installed"
)


def _frames(capture: Path, display_filter: str | None = None) -> list[tuple[str, str, str]]:
    """(epoch time, length, md5 of the frame bytes) per frame, as tshark itself reports them."""
    cmd = ["tshark", "-r", str(capture), "-o", "frame.generate_md5_hash:TRUE", "-T", "fields",
           "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.md5_hash"]  # fmt: skip
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]  # type: ignore[misc]


def test_cut_holds_exactly_the_window(tmp_path: Path) -> None:
    out = tmp_path / "evidence.pcapng"
    ev = export_evidence(CAPTURE, 40, 71, out)
    assert ev.frames == 32 and ev.messages is None
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"  # a pcapng section header block
    got = _frames(out)
    want = _frames(CAPTURE, "frame.number >= 40 && frame.number <= 71")
    assert len(want) == 32
    assert got == want
    assert len(set(h for _, _, h in got)) > 1  # really different frames, not one repeated


def test_single_frame_and_whole_file(tmp_path: Path) -> None:
    assert export_evidence(CAPTURE, 166, 166, tmp_path / "last.pcapng").frames == 1
    assert _frames(tmp_path / "last.pcapng") == _frames(CAPTURE, "frame.number == 166")
    assert export_evidence(CAPTURE, 1, 166, tmp_path / "all.pcapng").frames == 166


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (150, 200, "holds only 17 of the alert's 51 frames"),
        (0, 3, "bad frame window"),
        (9, 8, "bad frame window"),
    ],
)
def test_windows_the_file_does_not_hold(tmp_path: Path, first: int, last: int, message: str) -> None:
    out = tmp_path / "e.pcapng"
    with pytest.raises(UserError, match=message):
        export_evidence(CAPTURE, first, last, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no half file, no temp left behind


def test_bad_sources(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n" * 20)
    with pytest.raises(UserError, match="editcap cannot cut"):
        export_evidence(text, 1, 2, tmp_path / "e.pcapng")
    with pytest.raises(UserError, match="capture file not found"):
        export_evidence(tmp_path / "gone.pcap", 1, 2, tmp_path / "e.pcapng")
    with pytest.raises(UserError, match="output directory does not exist"):
        export_evidence(CAPTURE, 1, 2, tmp_path / "no" / "e.pcapng")


def _store_with_alert(tmp_path: Path, capture: Path, **kw: object) -> Path:
    path = tmp_path / "alerts.db"
    alert = Alert("modbus", "novelty", 0.0, 1.0, 100, 120, 2.0, 1.0, "new function code", file=1, **kw)
    with AlertStore(path, {"command": "scan", "sources": [str(CAPTURE), str(capture)]}) as store:
        store.write([alert])
    return path


def test_export_alert_uses_the_recorded_source_of_its_file(tmp_path: Path) -> None:
    site_b = tmp_path / "site-b.pcap"
    shutil.copy(CAPTURE, site_b)
    with open_store(_store_with_alert(tmp_path, site_b)) as reader:
        ev = export_alert(reader, 1, tmp_path / "a1.pcapng")
    assert ev.source == site_b.resolve() and ev.frames == 21
    assert _frames(tmp_path / "a1.pcapng") == _frames(CAPTURE, "frame.number >= 100 && frame.number <= 120")


def test_changed_or_missing_source_is_refused(tmp_path: Path) -> None:
    site_b = tmp_path / "site-b.pcap"
    shutil.copy(CAPTURE, site_b)
    store = _store_with_alert(tmp_path, site_b)
    with site_b.open("ab") as fh:  # the file grew since the scan
        fh.write(b"\0" * 16)
    with open_store(store) as reader:
        with pytest.raises(UserError, match="changed since it was scanned"):
            export_alert(reader, 1, tmp_path / "a1.pcapng")
        assert export_alert(reader, 1, tmp_path / "a1.pcapng", force=True).frames == 21
        site_b.unlink()
        with pytest.raises(UserError, match="not a capture file here"):
            export_alert(reader, 1, tmp_path / "a1.pcapng")
        assert export_alert(reader, 1, tmp_path / "a2.pcapng", source=CAPTURE).frames == 21
        with pytest.raises(UserError, match="no alert 5"):
            export_alert(reader, 5, tmp_path / "a1.pcapng")
