"""Interface listing (`spear-tui interfaces`)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from spear_tui.capture.interfaces import check_interface, list_interfaces
from spear_tui.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def test_loopback_is_listed_like_tshark_lists_it() -> None:
    try:
        names = [i.name for i in list_interfaces()]
    except UserError as exc:
        pytest.skip(f"cannot list interfaces here: {exc}")
    tshark = subprocess.run(["tshark", "-D"], capture_output=True, text=True).stdout
    assert len(names) == len([ln for ln in tshark.splitlines() if ln.strip()])
    assert "lo" in names
    check_interface("lo")
    r = subprocess.run([sys.executable, "-m", "spear_tui", "interfaces"], capture_output=True, text=True)
    assert r.returncode == 0 and any(
        line.split(". ", 1)[1].startswith("lo") for line in r.stdout.splitlines()
    )


def test_unknown_interface_lists_the_available_ones() -> None:
    with pytest.raises(UserError, match=r"unknown interface 'eth99x' \(available: .*lo"):
        check_interface("eth99x")
