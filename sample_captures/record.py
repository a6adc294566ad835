"""Record the sample captures from real stacks on loopback (mosquitto+paho, pymodbus, bacpypes3).

    .venv/bin/python sample_captures/record.py            # everything, seed 7
    .venv/bin/python sample_captures/record.py normal --seed 7

Needs root (or capture rights) for dumpcap on ``lo`` and the standard ports 1883/502/47808 free.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorder.capture import check_ports_free  # noqa: E402
from recorder.errors import RecorderError  # noqa: E402
from recorder.scenarios import SCENARIOS  # noqa: E402

HERE = Path(__file__).resolve().parent
#: Captures stored gzip-compressed (tshark reads .pcapng.gz directly) to keep the repo small.
GZIPPED = {"normal"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"which samples to record (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--seed", type=int, default=7, help="seed of the schedule (default 7)")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: sample_captures/)")
    args = parser.parse_args(argv)
    names = args.names or list(SCENARIOS)
    try:
        unknown = sorted(set(names) - set(SCENARIOS))
        if unknown:
            raise RecorderError(f"unknown sample {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
        for name in names:
            check_ports_free()
            start = time.monotonic()
            out = args.out / f"{name}.pcapng"
            SCENARIOS[name](out, args.seed)
            if name in GZIPPED:
                gz = out.with_name(out.name + ".gz")
                with out.open("rb") as src, gzip.GzipFile(gz, "wb", mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
                out.unlink()
                out = gz
            print(f"{out}: {out.stat().st_size / 1e6:.2f} MB in {time.monotonic() - start:.0f} s")
    except RecorderError as exc:
        print(f"record.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
