"""Learn novelty baselines from normal captures and save them beside the models.

    .venv/bin/python -m spear_tui.detect.novelty.learn sample_captures/normal.pcapng.gz --out models/

writes `models/<protocol>_novelty.msgpack` for every protocol the captures hold (the names
`spear_tui.engines.builder.novelty_baseline` looks for). The whole capture is the learning period.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from spear_tui.detect.novelty.detector import NoveltyDetector
from spear_tui.errors import UserError
from spear_tui.logs import inert_error_line


def learn_from_tables(batches: Iterable[dict[str, pl.DataFrame]]) -> dict[str, NoveltyDetector]:
    """Feed every batch to one learning-only detector per protocol (learning never ends on its own)."""
    dets: dict[str, NoveltyDetector] = {}
    for tables in batches:
        for protocol, table in tables.items():
            if table.height == 0:
                continue
            det = dets.get(protocol)
            if det is None:
                det = dets[protocol] = NoveltyDetector(protocol, learn_messages=2**62)
            det.feed(table)
    return dets


def learn_baselines(
    paths: Sequence[str | Path], out_dir: str | Path, decode_as: Sequence[str] = ()
) -> dict[str, Path]:
    from spear_tui.capture.source import open_capture_files

    source = open_capture_files(list(paths), decode_as=decode_as)
    try:
        dets = learn_from_tables(batch.tables for batch in source.batches())
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if not dets:
        raise UserError("no MQTT, Modbus/TCP or BACnet/IP messages in the captures: nothing to learn")
    out: dict[str, Path] = {}
    for protocol, det in dets.items():
        path = Path(out_dir) / f"{protocol}_novelty.msgpack"
        det.save_baseline(path)
        out[protocol] = path
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spear_tui.detect.novelty.learn",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("captures", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--decode-as", action="append", default=[], metavar="tcp.port==N,mqtt")
    args = parser.parse_args(argv)
    try:
        for protocol, path in learn_baselines(args.captures, args.out, args.decode_as).items():
            print(f"{protocol}: {path}")
    except UserError as exc:
        print(inert_error_line(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
