"""Finding and checking tshark, and the options every tshark run of ours shares.

tshark is located through pyshark's own lookup so that a pyshark `config.ini` (tshark_path) is respected,
and both the bulk field stream and pyshark drill-down use the same binary.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from spear_tui.errors import UserError

MIN_VERSION = (3, 6, 0)
INSTALL_HINT = (
    "install it with `sudo apt-get install tshark` (Debian/Ubuntu) or from https://www.wireshark.org"
)
_DECODE_AS = re.compile(r"^(tcp|udp)\.port==(\d{1,5}),([A-Za-z0-9_.-]+)$")


@functools.cache
def find_tshark() -> str:
    """Path of a usable tshark (>= 3.6), found the way pyshark finds it; UserError with a hint otherwise."""
    from pyshark.tshark.tshark import TSharkNotFoundException, get_process_path

    try:
        path = get_process_path()
    except TSharkNotFoundException:
        raise UserError(f"tshark not found; {INSTALL_HINT}") from None
    version = tshark_version(path)
    if version < MIN_VERSION:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_VERSION))
        raise UserError(f"tshark {have} at {path} is too old (need >= {need}); {INSTALL_HINT}")
    if last_tshark() != path:
        _remember_path(path)
    return path


def _path_file() -> Path:
    return _version_cache_file().with_name("tshark-path")


def last_tshark() -> str | None:
    """The tshark `find_tshark` found last time, if it is still there: a guess that needs neither
    pyshark nor a version check (prestart.py starts it before either is at hand)."""
    try:
        path = _path_file().read_text().strip()
    except OSError:
        return None
    return path if path and os.access(path, os.X_OK) else None


def _remember_path(path: str) -> None:
    try:
        _path_file().parent.mkdir(parents=True, exist_ok=True)
        tmp = _path_file().with_name(f"tshark-path.{os.getpid()}.tmp")
        tmp.write_text(path)
        os.replace(tmp, _path_file())
    except OSError:
        pass  # a read-only home: no scan starts tshark early


@functools.cache
def tshark_version(path: str) -> tuple[int, int, int]:
    """The version `path -v` prints, remembered on disk per binary (path, size, modification time):
    `tshark -v` loads every dissector, ~0.2 s before each scan could start its own tshark."""
    key = _binary_key(path)
    known = _read_version_cache().get(key) if key else None
    if known is not None:
        return known
    try:
        out = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"tshark at {path} does not run ({exc}); {INSTALL_HINT}") from None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise UserError(f"cannot read the version of tshark at {path}; {INSTALL_HINT}")
    version = int(m[1]), int(m[2]), int(m[3])
    if key:
        _write_version_cache(key, version)
    return version


def _version_cache_file() -> Path:
    """Beside the other per-machine caches (~/.cache/spear-tui/); SPEAR_TUI_TSHARK_CACHE overrides."""
    default = Path("~/.cache/spear-tui/tshark-versions.json").expanduser()
    return Path(os.environ.get("SPEAR_TUI_TSHARK_CACHE", default))


def _binary_key(path: str) -> str | None:
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}|{st.st_size}|{st.st_mtime_ns}"


def _read_version_cache() -> dict[str, tuple[int, int, int]]:
    try:
        data = json.loads(_version_cache_file().read_text())
        return {k: (int(v[0]), int(v[1]), int(v[2])) for k, v in data.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError):
        return {}  # no cache yet, or not ours to trust: ask tshark


def _write_version_cache(key: str, version: tuple[int, int, int]) -> None:
    path = _version_cache_file()
    known = _read_version_cache()
    known = {k: v for k, v in known.items() if not k.startswith(key.split("|")[0] + "|")}  # one per path
    known[key] = version
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: ask tshark every time


def find_tool(name: str) -> str:
    """dumpcap/capinfos/mergecap from the same install as tshark (its directory first, then PATH)."""
    import os
    import shutil

    candidate = os.path.join(os.path.dirname(find_tshark()), name)
    if os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if not found:
        raise UserError(f"{name} not found next to tshark; {INSTALL_HINT}")
    return found


def parse_decode_as(specs: Sequence[str]) -> list[tuple[str, int, str]]:
    """Check `tcp.port==17501,mqtt` style rules -> [(transport, port, protocol)]; UserError if malformed."""
    rules = []
    for spec in specs:
        m = _DECODE_AS.match(spec.strip().replace(" ", ""))
        if not m or not 0 < int(m[2]) < 65536:
            raise UserError(f"bad --decode-as {spec!r}: expected e.g. tcp.port==17501,mqtt")
        rules.append((m[1], int(m[2]), m[3].lower()))
    return rules


def decode_as_args(specs: Sequence[str]) -> list[str]:
    args: list[str] = []
    for transport, port, proto in parse_decode_as(specs):
        args += ["-d", f"{transport}.port=={port},{proto}"]
    return args


def modbus_server_ports(specs: Sequence[str]) -> list[int]:
    """Ports a Modbus/TCP server listens on: 502 plus any decode-as'd to mbtcp/modbus."""
    ports = [502]
    ports += [p for t, p, proto in parse_decode_as(specs) if t == "tcp" and proto in ("mbtcp", "modbus")]
    return ports


def stop_process(proc, grace: float = 3.0) -> None:
    """Terminate a tool we started (tshark, editcap, dumpcap), kill it if it ignores that, and reap it."""
    import subprocess

    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()
