"""Recording a capture with dumpcap (tests, benchmarks and sample recordings use real traffic)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from spear_tui.capture.tshark import find_tool, stop_process
from spear_tui.errors import UserError


class Recorder:
    """`with Recorder("lo", "tcp port 1883", path):` runs dumpcap until the block ends.

    Waits until dumpcap has opened the interface, so traffic sent inside the block is captured; raises
    UserError (one line) when capturing is not permitted or the interface is unknown."""

    def __init__(self, interface: str, bpf: str | None, path: str | Path, snaplen: int | None = None):
        self.cmd = [find_tool("dumpcap"), "-i", interface, "-w", str(path)]
        if bpf:
            self.cmd += ["-f", bpf]
        if snaplen:
            self.cmd += ["-s", str(snaplen)]
        self.path = Path(path)
        self.proc: subprocess.Popen | None = None
        self.stderr: list[str] = []

    def __enter__(self) -> Recorder:
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        ready = threading.Event()

        stderr = self.proc.stderr
        assert stderr is not None  # opened with stderr=PIPE

        def drain() -> None:
            for line in stderr:
                self.stderr.append(line.strip())
                if line.startswith("File:") or "Capturing on" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        ready.wait(timeout=15)
        time.sleep(0.2)  # "Capturing on" is printed just before the capture loop starts
        if self.proc.poll() is not None:
            detail = " ".join(s for s in self.stderr if s and "Running as user" not in s)[:300]
            if "ermission" in detail:
                raise UserError(f"not permitted to capture on this machine: {detail}")
            raise UserError(f"dumpcap failed: {detail or self.proc.returncode}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            time.sleep(0.3)  # let the last segments reach the ring buffer
            stop_process(self.proc, grace=10)
