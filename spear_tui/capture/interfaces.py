"""Listing capture interfaces (`tshark -D`) and checking one before a live capture starts."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from spear_tui.capture.tshark import find_tshark
from spear_tui.errors import UserError

_LINE = re.compile(r"^\s*(\d+)\.\s+(\S+)(?:\s+\((.*)\))?\s*$")


@dataclass(frozen=True)
class Interface:
    index: int
    name: str
    description: str


def list_interfaces() -> list[Interface]:
    """Interfaces tshark (dumpcap) can capture on; UserError when it cannot list any (permissions)."""
    proc = subprocess.run([find_tshark(), "-D"], capture_output=True, text=True, errors="replace")
    found = []
    for line in proc.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            found.append(Interface(int(m[1]), m[2], m[3] or ""))
    if not found:
        detail = " ".join(ln for ln in proc.stderr.splitlines() if "Running as user" not in ln).strip()
        if "ermission" in detail or "not permitted" in detail:
            raise UserError(
                "not permitted to capture: add yourself to the `wireshark` group or run "
                "`sudo dpkg-reconfigure wireshark-common` (then log in again)"
            )
        raise UserError(f"tshark lists no capture interfaces{': ' + detail if detail else ''}")
    return found


def check_interface(name: str) -> None:
    names = list_interfaces()
    if name in {i.name for i in names} or name in {str(i.index) for i in names}:
        return
    available = ", ".join(i.name for i in names[:12])
    raise UserError(f"unknown interface {name!r} (available: {available}; see `spear-tui interfaces`)")


def check_capture_filter(interface: str, bpf: str) -> None:
    """Compile a BPF capture filter with dumpcap (-d) so a typo is a one-line error before capturing."""
    from spear_tui.capture.tshark import find_tool

    proc = subprocess.run(
        [find_tool("dumpcap"), "-i", interface, "-f", bpf, "-d"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    text = proc.stderr + proc.stdout
    if proc.returncode != 0 or "isn't a valid capture filter" in text:
        detail = next((ln.strip() for ln in text.splitlines() if "filter" in ln.lower()), text.strip()[:200])
        raise UserError(f"bad capture filter {bpf!r}: {detail}")
