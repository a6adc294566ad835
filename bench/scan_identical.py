"""Check that a change left `spear-tui scan --json` unchanged: run it (fresh process, the source tree this
script lives in, detectors on, defaults) on every `sample_captures/*.pcapng*` file and any `--capture FILE`,
and save or compare the documents keyed: chunks by (protocol, index), alerts and incidents as sorted sets
(the order of events across protocols depends on thread timing, nothing else may differ).

Usage: .venv/bin/python bench/scan_identical.py --save DIR      (before the change)
       .venv/bin/python bench/scan_identical.py --against DIR   (after: exit 1 on any difference)
       [--capture FILE --decode-as RULE]  also a big capture (e.g. one bench/scan_e2e.py records)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def canonical(doc: dict) -> dict:
    """The document with cross-protocol event order removed."""
    doc = dict(doc)
    doc["chunks"] = sorted(doc["chunks"], key=lambda c: (c["protocol"], c.get("detector", ""), c["index"]))
    for key in ("alerts", "incidents"):
        doc[key] = sorted(doc[key], key=lambda a: json.dumps(a, sort_keys=True))
    return doc


def scan(path: Path, rule: str | None) -> dict:
    dec = ["--decode-as", rule] if rule else []
    cmd = [sys.executable, "-m", "spear_tui", "scan", "--json", *dec, str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({proc.returncode}) on {path}: {proc.stderr.decode()[-500:]}")
    return canonical(json.loads(proc.stdout))


def diff(a: dict, b: dict) -> list[str]:
    out = [f"{k} differs" for k in sorted(set(a) | set(b)) if k not in ("chunks",) and a.get(k) != b.get(k)]
    ca = {(c["protocol"], c.get("detector", ""), c["index"]): c for c in a["chunks"]}
    cb = {(c["protocol"], c.get("detector", ""), c["index"]): c for c in b["chunks"]}
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            out.append(f"chunk {key}: {ca.get(key)} != {cb.get(key)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--against", type=Path)
    ap.add_argument("--capture", type=Path)
    ap.add_argument("--decode-as")
    args = ap.parse_args()
    files = [(p, None) for p in sorted((ROOT / "sample_captures").glob("*.pcapng*"))]
    if args.capture:
        files.append((args.capture, args.decode_as))
    bad = 0
    for path, rule in files:
        doc = scan(path, rule)
        ref = (args.save or args.against) / f"{path.name}.json"
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            ref.write_text(json.dumps(doc, sort_keys=True))
            print(f"saved {path.name}: {len(doc['chunks'])} chunks, {len(doc['alerts'])} alerts, "
                  f"{len(doc['incidents'])} incidents")
            continue
        problems = diff(json.loads(ref.read_text()), doc)
        bad += bool(problems)
        print(f"{'SAME' if not problems else 'DIFFERENT'} {path.name}: {len(doc['chunks'])} chunks, "
              f"{len(doc['alerts'])} alerts, {len(doc['incidents'])} incidents")
        for line in problems[:10]:
            print("   ", line[:300])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
