"""Record the sample captures from real stacks on loopback (mosquitto+paho, pymodbus, bacpypes3).

    .venv/bin/python sample_captures/record.py                 # every sample, seed 7
    .venv/bin/python sample_captures/record.py mqtt_shuffle    # just one
    .venv/bin/python sample_captures/record.py --out /tmp/x --seed 3

Needs root (or capture rights) for dumpcap on ``lo``, and TCP 1883/502 and UDP 47808 unused.
Writes ``<name>.pcapng`` (or ``.pcapng.gz``) and ``<name>.labels.json`` per sample.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorder.capture import check_ports_free, check_tools  # noqa: E402
from recorder.errors import RecorderError  # noqa: E402
from recorder.scenarios import SCENARIOS  # noqa: E402
from recorder.schedule import COMPRESSION  # noqa: E402

HERE = Path(__file__).resolve().parent
#: Stored gzip-compressed (tshark and pyshark read .pcapng.gz directly) to keep the repo small.
GZIPPED = {"normal"}


def _gzip(path: Path) -> Path:
    gz = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.GzipFile(gz, "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return gz


def record_one(name: str, out_dir: Path, seed: int) -> Path:
    """Record one sample and write its labels; returns the capture's path."""
    check_tools()
    check_ports_free()
    out = out_dir / f"{name}.pcapng"
    for old in (out, out.with_name(out.name + ".gz")):
        old.unlink(missing_ok=True)
    incidents = SCENARIOS[name](out, seed)
    if name in GZIPPED:
        out = _gzip(out)
    out.chmod(0o644)  # dumpcap creates it 0600
    labels = {"capture": out.name, "seed": seed, "time_compression": COMPRESSION, "incidents": incidents}
    (out_dir / f"{name}.labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=True) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"samples to record (default: all): {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the schedule (default 7)")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: sample_captures/)")
    args = parser.parse_args(argv)
    names = args.names or list(SCENARIOS)
    try:
        unknown = sorted(set(names) - set(SCENARIOS))
        if unknown:
            raise RecorderError(f"unknown sample {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
        args.out.mkdir(parents=True, exist_ok=True)
        for name in names:
            start = time.monotonic()
            out = record_one(name, args.out, args.seed)
            print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, recorded in {time.monotonic() - start:.0f} s")
    except RecorderError as exc:
        print(f"record.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
