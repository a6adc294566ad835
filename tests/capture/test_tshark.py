"""tshark discovery: through pyshark's lookup, version-checked, one-line errors with an install hint."""

from __future__ import annotations

import shutil

import pytest

from spear_tui.capture import tshark as tshark_mod
from spear_tui.errors import UserError


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEAR_TUI_TSHARK_CACHE", str(tmp_path / "versions.json"))
    tshark_mod.find_tshark.cache_clear()
    tshark_mod.tshark_version.cache_clear()
    yield
    tshark_mod.find_tshark.cache_clear()
    tshark_mod.tshark_version.cache_clear()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_finds_the_installed_tshark_via_pyshark() -> None:
    from pyshark.tshark.tshark import get_process_path

    assert tshark_mod.find_tshark() == get_process_path()
    assert tshark_mod.tshark_version(tshark_mod.find_tshark()) >= tshark_mod.MIN_VERSION


def test_missing_tshark_is_one_line_with_install_hint(monkeypatch) -> None:
    import pyshark.tshark.tshark as pt

    def not_found(*a, **k):
        raise pt.TSharkNotFoundException("TShark not found")

    monkeypatch.setattr(pt, "get_process_path", not_found)
    with pytest.raises(UserError, match="tshark not found; install it with `sudo apt-get install tshark`"):
        tshark_mod.find_tshark()


def test_too_old_tshark_is_refused(monkeypatch, tmp_path) -> None:
    import pyshark.tshark.tshark as pt

    old = tmp_path / "tshark"
    old.write_text("#!/bin/sh\necho 'TShark (Wireshark) 2.6.20 (Git v2.6.20 packaged as 2.6.20-0+deb10u1)'\n")
    old.chmod(0o755)
    monkeypatch.setattr(pt, "get_process_path", lambda *a, **k: str(old))
    with pytest.raises(UserError, match=r"tshark 2\.6\.20 .* is too old \(need >= 3\.6\.0\)"):
        tshark_mod.find_tshark()


def _fake_tshark(path, version: str) -> None:
    """A tshark that prints `version` and counts its runs in `path`.runs."""
    banner = f"TShark (Wireshark) {version} (Git v{version})"
    path.write_text(f"#!/bin/sh\necho run >> '{path}.runs'\necho '{banner}'\n")
    path.chmod(0o755)


def test_the_version_is_asked_once_per_binary(tmp_path) -> None:
    fake = tmp_path / "tshark"
    _fake_tshark(fake, "4.0.17")
    assert tshark_mod.tshark_version(str(fake)) == (4, 0, 17)
    tshark_mod.tshark_version.cache_clear()  # a new process: only the disk cache is left
    assert tshark_mod.tshark_version(str(fake)) == (4, 0, 17)
    assert (tmp_path / "tshark.runs").read_text().count("run") == 1
    _fake_tshark(fake, "3.4.0")  # upgraded or downgraded in place: a new size/mtime, asked again
    tshark_mod.tshark_version.cache_clear()
    assert tshark_mod.tshark_version(str(fake)) == (3, 4, 0)
    assert (tmp_path / "tshark.runs").read_text().count("run") == 2


def test_an_unreadable_version_cache_is_ignored(tmp_path) -> None:
    (tmp_path / "versions.json").write_text("{not json")
    fake = tmp_path / "tshark"
    _fake_tshark(fake, "4.2.1")
    assert tshark_mod.tshark_version(str(fake)) == (4, 2, 1)


def test_decode_as_rules_are_validated() -> None:
    assert tshark_mod.parse_decode_as(["tcp.port==17501,mqtt", "udp.port == 47809, bvlc"]) == [
        ("tcp", 17501, "mqtt"),
        ("udp", 47809, "bvlc"),
    ]
    assert tshark_mod.modbus_server_ports(["tcp.port==5020,mbtcp"]) == [502, 5020]
    for bad in ("tcp.port=17501,mqtt", "tcp.port==0,mqtt", "tcp.port==70000,mqtt", "mqtt"):
        with pytest.raises(UserError, match="bad --decode-as"):
            tshark_mod.parse_decode_as([bad])
