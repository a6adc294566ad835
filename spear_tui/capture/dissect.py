"""Single-packet drill-down: the full dissection of one frame, via pyshark.

pyshark runs its own asyncio loop, so this makes a fresh loop for the call; it is safe from a worker
thread and must not be called on the UI's event loop. Field text is packet content: render it as plain
text, never as markup. pyshark groups repeated fields of a layer (a SUBSCRIBE's topics) together, so their
order inside one message can differ from tshark -V; every field is there.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from pathlib import Path

from spear_tui.capture.files import check_readable
from spear_tui.capture.tshark import find_tshark, parse_decode_as
from spear_tui.errors import UserError


def _depth(name: str, layer: str) -> int:
    """Nesting from tshark's dotted field names (mqtt.conflag.uname sits under mqtt.conflags)."""
    rest = name[len(layer) + 1 :] if name.startswith(layer + ".") else name
    return 1 + rest.count(".")


def dissect_frame(
    path: str | Path, frame_number: int, decode_as: Sequence[str] = ()
) -> list[tuple[int, str]]:
    """(depth, "field: value") lines for every layer of one frame; UserError if the frame does not exist."""
    import pyshark
    from pyshark.capture.capture import TSharkCrashException

    path = check_readable(path)
    rules = {f"{t}.port=={p}": proto for t, p, proto in parse_decode_as(decode_as)}
    loop = asyncio.new_event_loop()
    cap = pyshark.FileCapture(
        path,
        display_filter=f"frame.number == {int(frame_number)}",
        decode_as=rules or None,
        tshark_path=find_tshark(),
        eventloop=loop,
        keep_packets=False,
    )
    crashed = False
    try:
        packets = [p for _, p in zip(range(1), cap, strict=False)]
    except TSharkCrashException:
        packets, crashed = [], True
    finally:
        try:
            cap.close()
        except TSharkCrashException:  # close kills tshark; pyshark may call that exit (255) a crash
            pass
        del cap
        gc.collect()  # let pyshark's subprocess transports go while their loop is still open
        loop.close()
    if not packets:
        why = " (tshark ended with an error)" if crashed else ""
        raise UserError(f"{path}: no frame {frame_number}{why}")
    lines: list[tuple[int, str]] = []
    for layer in packets[0].layers:
        name = layer.layer_name
        lines.append((0, _layer_title(layer)))
        for field in layer._get_all_fields_with_alternates():
            text = field.showname or (f"{field.name}: {field.show}" if field.show else field.name)
            if not text or field.name in ("", "_ws.expert"):
                continue
            lines.append((_depth(field.name, name), str(text)))
    return lines


def _layer_title(layer) -> str:
    return str(getattr(layer, "layer_name", "?")).upper()
