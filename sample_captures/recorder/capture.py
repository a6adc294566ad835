"""Loopback capture with dumpcap, and the check that the standard ports are ours to use."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .errors import RecorderError

#: Standard ports, so tshark dissects without decode-as.
MQTT_PORT = 1883
MODBUS_PORT = 502
BACNET_PORT = 47808
CAPTURE_FILTER = f"tcp port {MQTT_PORT} or tcp port {MODBUS_PORT} or udp port {BACNET_PORT}"


def check_tools() -> None:
    """The real stacks and the capture tool must be installed (see the Makefile's apt packages)."""
    import shutil

    missing = [tool for tool in ("dumpcap", "/usr/sbin/mosquitto", "ss") if shutil.which(tool) is None]
    if missing:
        hint = "Debian: apt-get install tshark mosquitto iproute2"
        raise RecorderError(f"missing {', '.join(missing)} ({hint})")


def check_ports_free() -> None:
    """Fail if anything on this machine already uses our ports: it would end up in the capture."""
    out = subprocess.run(["ss", "-Htuan"], capture_output=True, text=True, check=True).stdout
    busy = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 6 or cols[1] == "TIME-WAIT":  # closed connections send nothing more
            continue
        for endpoint in (cols[4], cols[5]):
            port = endpoint.rsplit(":", 1)[-1]
            if port in {str(MQTT_PORT), str(MODBUS_PORT), str(BACNET_PORT)}:
                busy.append(f"{cols[0]} {cols[4]} -> {cols[5]}")
    if busy:
        raise RecorderError(
            "ports 1883/502/47808 must be free on this machine while recording; in use: "
            + "; ".join(busy[:5])
        )


class Dumpcap:
    """Run ``dumpcap -i lo`` with our capture filter for the lifetime of a ``with`` block."""

    def __init__(self, out: Path, capture_filter: str = CAPTURE_FILTER) -> None:
        self.out = out
        self.capture_filter = capture_filter
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dumpcap:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if self.out.exists():
            self.out.unlink()
        self.proc = subprocess.Popen(
            ["dumpcap", "-i", "lo", "-f", self.capture_filter, "-w", str(self.out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # dumpcap prints "Capturing on ..." once the capture is live.
        assert self.proc.stderr is not None
        os.set_blocking(self.proc.stderr.fileno(), False)
        buf = b""
        deadline = time.monotonic() + 15
        while b"Capturing on" not in buf:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rest = self.proc.stderr.read() or b""
                raise RecorderError(f"dumpcap did not start: {(buf + rest).decode(errors='replace').strip()}")
            buf += self.proc.stderr.read() or b""
            time.sleep(0.05)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        time.sleep(0.5)  # let the last responses reach the ring buffer
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
