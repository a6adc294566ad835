"""Subprocess for the crash tests: writes batches to an AlertStore in a loop and prints
`<alert id> <seq>` on stdout after each commit returns (i.e. what a console would now show).

usage: python _writer.py STORE [CHUNKS_PER_BATCH]
On UserError (e.g. disk full) prints `error: <message>` on stderr and exits 2, like the CLI does.
"""

from __future__ import annotations

import sys

from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored, MessagesSeen
from spear_tui.store import AlertStore

HOSTILE = "\x1b[31m<script>x</script>[bold]\u202e"


def make_alert(seq: int) -> Alert:
    """Deterministic alert number `seq`, so the test knows what each committed id must hold."""
    return Alert(
        protocol=("mqtt", "modbus", "bacnet")[seq % 3],
        detector="lstm",
        start=1_700_000_000.0 + seq,
        end=1_700_000_000.5 + seq,
        first_frame=10 * seq + 1,
        last_frame=10 * seq + 9,
        score=2.0 + seq / 8,
        threshold=1.5,
        reason=f"loss above threshold #{seq} {HOSTILE}",
        talkers=(f"10.0.0.{seq % 250}", HOSTILE),
        severity=("low", "medium", "high")[seq % 3],
        file=seq % 2,
        source=f"/captures/site{seq % 2}.pcapng",
        detectors=("lstm", "novelty") if seq % 2 else ("lstm",),
    )


def main() -> int:
    path = sys.argv[1]
    per_batch = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    try:
        store = AlertStore(path, {"command": "crash-test", "sources": ["/captures/site0.pcapng"]})
        seq = 0
        while True:
            chunks = [
                ChunkScored("mqtt", seq * per_batch + k, 0.0, 1.0, 1, 50, 0.1, 0.05, False, 0.5)
                for k in range(per_batch)
            ]
            ids = store.write([*chunks, MessagesSeen("mqtt", 50 * per_batch, 0.0, 1.0), make_alert(seq)])
            print(ids[0], seq, flush=True)
            seq += 1
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
