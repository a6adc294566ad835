"""Single-packet drill-down: the full dissection of one frame, via pyshark.

pyshark runs its own asyncio loop, so this makes a fresh loop for the call; it is safe from a worker
thread and must not be called on the UI's event loop. Field text is packet content: render it as plain
text, never as markup. pyshark groups repeated fields of a layer (a SUBSCRIBE's topics) together, so their
order inside one message can differ from tshark -V; every field is there.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from spear_tui.capture.files import check_readable
from spear_tui.capture.segments import segment_frames
from spear_tui.capture.tshark import find_tool, find_tshark, parse_decode_as
from spear_tui.errors import UserError


def _depth(name: str, layer: str) -> int:
    """Nesting from tshark's dotted field names (mqtt.conflag.uname sits under mqtt.conflags)."""
    rest = name[len(layer) + 1 :] if name.startswith(layer + ".") else name
    return 1 + rest.count(".")


def dissect_frame(
    path: str | Path, frame_number: int, decode_as: Sequence[str] = ()
) -> list[tuple[int, str]]:
    """(depth, "field: value") lines for every layer of one frame; UserError if the frame does not exist.

    A frame past the first segment of a big capture is dissected from its segment alone (cut with
    editcap into a temporary file), as the stream saw it, so tshark's memory stays bounded here too.
    """
    path = check_readable(path)
    size = segment_frames()
    if frame_number <= size:
        return _dissect(path, frame_number, decode_as)
    first = (int(frame_number) - 1) // size * size + 1
    with tempfile.TemporaryDirectory(prefix="spear-tui-frame-") as tmp:
        part = os.path.join(tmp, "segment.pcapng")
        done = subprocess.run(
            [find_tool("editcap"), "-r", path, part, f"{first}-{first + size - 1}"], capture_output=True
        )
        if done.returncode != 0 or not os.path.exists(part):
            raise UserError(f"{path}: no frame {frame_number}")
        try:
            return _dissect(part, int(frame_number) - first + 1, decode_as)
        except UserError:
            raise UserError(f"{path}: no frame {frame_number}") from None


def _dissect(path: str, frame_number: int, decode_as: Sequence[str]) -> list[tuple[int, str]]:
    import pyshark
    from pyshark.capture.capture import TSharkCrashException

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
