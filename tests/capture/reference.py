"""Independent references computed with tshark's own machinery (not our parser), for the tests to compare.

- counts: tshark's io,stat COUNT(field) statistics
- per-message fields: tshark -T json --no-duplicate-keys, where several messages in one frame come out as a
  list of per-message layer objects (parsed here with the json module, nothing shared with the pipeline)
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

TSHARK = "tshark"


def io_stat_counts(path: str | Path, exprs: list[str], decode_as: tuple[str, ...] = ()) -> list[int]:
    """tshark -z io,stat,0,<expr>... over the whole file: one number per expression (COUNT(f)f counts
    field occurrences, a plain filter counts frames)."""
    args = [TSHARK, "-r", str(path), "-n", "-q"]
    for d in decode_as:
        args += ["-d", d]
    args += ["-z", "io,stat,0," + ",".join(exprs)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    row = [ln for ln in out.splitlines() if "<>" in ln][-1]
    cells = [c.strip() for c in row.split("|")[2:-1]]
    numbers: list[int] = []
    for expr in exprs:
        # COUNT(field)field gives one column (the count); a plain filter gives Frames and Bytes.
        numbers.append(int(cells.pop(0)))
        if not expr.startswith("COUNT("):
            cells.pop(0)
    return numbers


def total_frames(path: str | Path) -> int:
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], capture_output=True, text=True).stdout
    return int(re.search(r"Number of packets:\s+(\d+)", out)[1])


def _find(obj, key: str):
    """First value of `key` anywhere under obj (tshark nests header bits in *_tree objects)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = _find(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find(v, key)
            if found is not None:
                return found
    return None


def _find_all(obj, key: str, out: list) -> list:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                out.extend(v if isinstance(v, list) else [v])
            else:
                _find_all(v, key, out)
    elif isinstance(obj, list):
        for v in obj:
            _find_all(v, key, out)
    return out


def json_layers(
    path: str | Path, protocols: str, decode_as: tuple[str, ...] = (), display_filter: str = ""
) -> dict[int, dict[str, list]]:
    """frame number -> {protocol: [per-message layer dict, ...]} from tshark -T json --no-duplicate-keys."""
    args = [TSHARK, "-r", str(path), "-n", "-T", "json", "--no-duplicate-keys", "-J", f"frame {protocols}"]
    for d in decode_as:
        args += ["-d", d]
    if display_filter:
        args += ["-Y", display_filter]
    data = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)
    out: dict[int, dict[str, list]] = {}
    for pkt in data:
        layers = pkt["_source"]["layers"]
        number = int(_find(layers["frame"], "frame.number"))
        per: dict[str, list] = {}
        for proto in protocols.split():
            layer = layers.get(proto)
            if layer is None:
                continue
            per[proto] = layer if isinstance(layer, list) else [layer]
        out[number] = per
    return out


def mqtt_reference(path: str | Path, decode_as: tuple[str, ...] = ()) -> list[dict]:
    """One dict per MQTT message, in frame order: frame, msgtype, length, msgid, clientid, topics."""
    msgs = []
    for frame, per in sorted(json_layers(path, "mqtt", decode_as, "mqtt").items()):
        for layer in per.get("mqtt", []):
            msgid = _find(layer, "mqtt.msgid")
            msgs.append(
                {
                    "frame": frame,
                    "msgtype": int(_find(layer, "mqtt.msgtype")),
                    "length": int(_find(layer, "mqtt.len")),
                    "msgid": int(msgid) if msgid is not None else None,
                    "clientid": _find(layer, "mqtt.clientid"),
                    "topics": _find_all(layer, "mqtt.topic", []),
                }
            )
    return msgs


def modbus_reference(path: str | Path) -> dict[int, list[dict]]:
    """frame -> per-PDU dicts (trans_id, func_code, reference, data) for multi-PDU frames where every
    MBAP header has its Modbus PDU layer (tshark lists mbtcp and modbus layers separately)."""
    out = {}
    for frame, per in json_layers(path, "mbtcp modbus", (), "count(mbtcp.trans_id) > 1").items():
        heads, pdus = per.get("mbtcp", []), per.get("modbus", [])
        if len(heads) != len(pdus):
            continue
        rows = []
        for h, p in zip(heads, pdus, strict=True):
            ref = _find(p, "modbus.reference_num")
            rows.append(
                {
                    "trans_id": int(_find(h, "mbtcp.trans_id")),
                    "func_code": int(_find(p, "modbus.func_code")),
                    "reference": int(ref) if ref is not None else None,
                    "data": (_find(p, "modbus.data") or "").replace(":", "") or None,
                }
            )
        out[frame] = rows
    return out
