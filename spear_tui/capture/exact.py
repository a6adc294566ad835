"""The exact path: per-message fields from tshark's PDML for the few frames the fast path cannot align.

One extra tshark (`-T pdml`) per capture file is started lazily, the first time a batch has such frames,
with a display filter selecting a superset of them (malformed frames, several SUBSCRIBE/UNSUBSCRIBE in one
segment, Modbus segments with exceptions or PDUs without a function code). Its output is read only as far as
the frames a batch needs; when not read it blocks on its pipe, so it costs nothing while there is nothing
to resolve. In PDML every MQTT message / Modbus PDU is its own <proto> element, so fields cannot slip.
Frames it cannot deliver go to the fallback (header fields only, counted as unaligned).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence

import polars as pl

from spear_tui.capture.segments import Segment, SegmentPipe
from spear_tui.capture.tshark import decode_as_args, find_tshark, stop_process
from spear_tui.protocols import modbus, mqtt
from spear_tui.protocols.fields import AGGREGATOR, ALL_FIELDS, COLUMNS

HEARTBEAT = 2000

# Superset (as far as tshark's filter language can say it) of the frames the fast path rejects.
EXACT_FILTER = (
    "_ws.malformed"
    " or (count(mqtt.msgtype) > 1 and (mqtt.msgtype == 8 or mqtt.msgtype == 10))"
    " or (mqtt and (count(mqtt.msgtype) != count(mqtt.len) or count(mqtt.msgtype) != count(mqtt.hdrflags)))"
    ' or mqtt.topic contains "\\x1e" or mqtt.clientid contains "\\x1e"'
    " or (mbtcp and count(mbtcp.trans_id) != count(modbus.func_code))"
    " or (count(mbtcp.trans_id) > 1 and modbus.exception_code)"
    # Sync points: a frame the fast path rejects for a reason the filter cannot express is given up
    # (fallback) at the next one instead of reading the PDML stream to its end.
    f" or frame.number % {HEARTBEAT} == 0"
)

_MQTT_FIELDS = {k: v for k, v in ALL_FIELDS.items() if k.startswith("mqtt.")}
_MODBUS_FIELDS = {k: v for k, v in ALL_FIELDS.items() if k.startswith(("mbtcp.", "modbus."))}
_REPEATED = {"mqtt_topic", "mqtt_subqos", "mqtt_subqos5"}  # kept in full (a SUBSCRIBE lists several)


def _fields(proto: ET.Element, wanted: dict[str, str]) -> dict[str, str]:
    """First `show` of every wanted field under one <proto> (topics: all, joined by the aggregator)."""
    out: dict[str, str] = {}
    for el in proto.iter("field"):
        col = wanted.get(el.get("name", ""))
        if col is None:
            continue
        show = el.get("show", "")
        if col in out:
            if col in _REPEATED:
                out[col] += AGGREGATOR + show
            continue
        out[col] = show
    return out


def messages_of_packet(packet: ET.Element) -> list[tuple[str, dict[str, str], bool]]:
    """(protocol, fields, malformed) per message, in order. A Modbus PDU is an mbtcp <proto> plus the
    modbus <proto> after it; a `_ws.malformed` <proto> marks the message just before it."""
    msgs: list[tuple[str, dict[str, str], bool]] = []
    for proto in packet.findall("proto"):
        name = proto.get("name")
        if name == "mqtt":
            msgs.append(("mqtt", _fields(proto, _MQTT_FIELDS), False))
        elif name == "mbtcp":
            msgs.append(("modbus", _fields(proto, _MODBUS_FIELDS), False))
        elif name == "modbus" and msgs and msgs[-1][0] == "modbus":
            msgs[-1][1].update(_fields(proto, _MODBUS_FIELDS))
        elif name == "_ws.malformed" and msgs:
            p, f, _ = msgs[-1]
            msgs[-1] = (p, f, True)
    return msgs


def _frame_number(packet: ET.Element) -> int | None:
    for el in packet.iter("field"):
        if el.get("name") in ("num", "frame.number"):
            try:
                return int(el.get("show", ""))
            except ValueError:
                return None
    return None


class ExactResolver:
    """Resolves bad frames of one capture file, in increasing frame order, from a lazily started PDML run."""

    def __init__(
        self,
        path: str,
        decode_as: Sequence[str],
        file_index: int,
        server_ports: Sequence[int],
        register: Callable | None = None,
        segment: Segment | None = None,
    ):
        self.path = path
        self.segment = segment  # read only this part of the file (frame numbers offset back)
        self._pipe: SegmentPipe | None = None
        self.decode_as = list(decode_as)
        self.file_index = file_index
        self.server_ports = list(server_ports)
        self._register = register
        self._proc: subprocess.Popen | None = None
        self._packets: Iterator[tuple[int, list]] | None = None
        self._pending: tuple[int, list] | None = None
        self._dead = False
        self.resolved_frames = 0

    def _start(self) -> None:
        if self.segment is not None:
            self._pipe = SegmentPipe(self.path, self.segment)
        cmd = [
            find_tshark(),
            "-r",
            self.path if self._pipe is None else "-",
            "-n",
            *decode_as_args(self.decode_as),
            "-Y",
            EXACT_FILTER,
            "-T",
            "pdml",
        ]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL if self._pipe is None else self._pipe.stdout,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        if self._pipe is not None:
            self._pipe.release()
        if self._register is not None:
            from types import SimpleNamespace

            self._register(SimpleNamespace(close=self.close))
        self._packets = self._iter_packets()

    def _iter_packets(self) -> Iterator[tuple[int, list]]:
        assert self._proc is not None and self._proc.stdout is not None  # started with stdout=PIPE
        context = ET.iterparse(self._proc.stdout, events=("start", "end"))
        root = None
        for event, el in context:
            if event == "start":
                if root is None:
                    root = el
                continue
            if el.tag == "packet":
                number = _frame_number(el)
                if number is not None and self.segment is not None:
                    number += self.segment.offset
                msgs = messages_of_packet(el)
                el.clear()
                if root is not None:
                    root.clear()
                if number is not None:
                    yield number, msgs

    def _fetch(self, frames: list[int]) -> dict[int, list]:
        """PDML messages of the wanted frames (ascending); frames already passed by the stream are missing."""
        found: dict[int, list] = {}
        if self._dead:
            return found
        if self._proc is None:
            self._start()
        wanted = set(frames)
        last = max(frames)
        try:
            while True:
                if self._pending is not None:
                    number, msgs = self._pending
                    if number > last:
                        break
                    self._pending = None
                    if number in wanted:
                        found[number] = msgs
                    continue
                assert self._packets is not None  # set when tshark started
                self._pending = next(self._packets)
        except StopIteration:
            self._dead = True
        except ET.ParseError:
            self._dead = True
            self.close()
        return found

    def resolve(self, bad: dict[str, pl.DataFrame]) -> dict[str, tuple[pl.DataFrame, int, pl.DataFrame]]:
        """protocol -> (messages, skipped, frames still unresolved) for one batch's bad frames."""
        frames = sorted({int(f) for b in bad.values() for f in b["frame"].to_list()})
        if not frames:
            return {}
        found = self._fetch(frames)
        out = {}
        for proto, rows in bad.items():
            numbers = rows["frame"].cast(pl.Int64)
            have = numbers.is_in(list(found))
            resolved, unresolved = rows.filter(have), rows.filter(~have)
            table, skipped = self._rebuild(proto, resolved, found)
            out[proto] = (table, skipped, unresolved)
        return out

    def _rebuild(self, proto: str, rows: pl.DataFrame, found: dict[int, list]) -> tuple[pl.DataFrame, int]:
        """One raw row per exact message (so the fast path's typing applies unchanged), minus malformed."""
        module = mqtt if proto == "mqtt" else modbus
        fields = _MQTT_FIELDS if proto == "mqtt" else _MODBUS_FIELDS
        per_msg: list[dict[str, str | None]] = []
        skipped = 0
        for row in rows.iter_rows(named=True):  # a handful of frames per batch, not the hot path
            for p, values, malformed in found[int(row["frame"])]:
                if p != proto:
                    continue
                if malformed or module.KEY not in values:
                    skipped += 1
                    continue
                rec = dict(row)
                rec["malformed"] = None
                for col in fields.values():
                    rec[col] = values.get(col)
                per_msg.append(rec)
        if not per_msg:
            return module.decode(rows.clear(), self.file_index)[0], skipped
        raw = pl.DataFrame(per_msg, schema=dict.fromkeys(COLUMNS, pl.Utf8))
        if proto == "mqtt":
            table, still_bad = mqtt.decode(raw, self.file_index)
            fb, fb_skipped, _ = mqtt.fallback(still_bad, self.file_index)
        else:
            table, still_bad = modbus.decode(raw, self.file_index, self.server_ports)
            fb, fb_skipped, _ = modbus.fallback(still_bad, self.file_index, self.server_ports)
        self.resolved_frames += rows.height
        return (
            pl.concat([table, fb]).sort("frame", maintain_order=True) if fb.height else table,
            skipped + fb_skipped,
        )

    def close(self) -> None:
        stop_process(self._proc)
        if self._pipe is not None:
            self._pipe.close()
