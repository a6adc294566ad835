"""tshark discovery: through pyshark's lookup, version-checked, one-line errors with an install hint."""

from __future__ import annotations

import shutil

import pytest

from spear_tui.capture import tshark as tshark_mod
from spear_tui.errors import UserError


@pytest.fixture(autouse=True)
def _fresh_cache():
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


def test_decode_as_rules_are_validated() -> None:
    assert tshark_mod.parse_decode_as(["tcp.port==17501,mqtt", "udp.port == 47809, bvlc"]) == [
        ("tcp", 17501, "mqtt"),
        ("udp", 47809, "bvlc"),
    ]
    assert tshark_mod.modbus_server_ports(["tcp.port==5020,mbtcp"]) == [502, 5020]
    for bad in ("tcp.port=17501,mqtt", "tcp.port==0,mqtt", "tcp.port==70000,mqtt", "mqtt"):
        with pytest.raises(UserError, match="bad --decode-as"):
            tshark_mod.parse_decode_as([bad])
