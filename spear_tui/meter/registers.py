"""Modbus register maps (TOML) and the encoding of measurements to and from 16-bit registers.

A map says, per measurement, where it lives (address, input or holding table), how it is stored
(u16/i16/u32/i32/f32, word order) and how to scale it (value = raw * scale, in `unit`). The poller decodes
with it and the simulator encodes with it, so a map can be checked end to end over a real socket.
Built-in maps live in `spear_tui/meter/maps/` (`generic`, `sdm630`); other TOML files are passed by path.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from spear_tui.errors import UserError

# type -> (words, numpy big-endian dtype of the whole value)
TYPES: dict[str, tuple[int, str]] = {
    "u16": (1, ">u2"),
    "i16": (1, ">i2"),
    "u32": (2, ">u4"),
    "i32": (2, ">i4"),
    "f32": (2, ">f4"),
    "u64": (4, ">u8"),
    "i64": (4, ">i8"),
    "f64": (4, ">f8"),
}
TABLES = ("input", "holding")
MAX_READ = 125  # registers per read request (Modbus limit)


@dataclass(frozen=True, slots=True)
class Register:
    measurement: str
    address: int
    type: str = "f32"
    scale: float = 1.0
    unit: str | None = None
    word_order: str = "big"  # "big": high word first; "little": low word first

    @property
    def words(self) -> int:
        return TYPES[self.type][0]


@dataclass(frozen=True, slots=True)
class RegisterMap:
    name: str
    source: str
    table: str  # "input" (function code 4) or "holding" (function code 3)
    unit_id: int
    registers: tuple[Register, ...]
    merge_gap: int = 0  # unused words a single read may span to cover two registers

    @property
    def measurements(self) -> list[str]:
        return [r.measurement for r in self.registers]

    @property
    def units(self) -> dict[str, str]:
        return {r.measurement: r.unit for r in self.registers if r.unit}

    def blocks(self) -> list[tuple[int, int]]:
        """(start, count) read requests covering every register, merging neighbours up to `merge_gap`."""
        spans = sorted((r.address, r.address + r.words) for r in self.registers)
        out: list[list[int]] = []
        for start, end in spans:
            if out and start - out[-1][1] <= self.merge_gap and end - out[-1][0] <= MAX_READ:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        return [(s, e - s) for s, e in out]

    def span(self) -> tuple[int, int]:
        """(first address, number of words) of the whole map."""
        first = min(r.address for r in self.registers)
        last = max(r.address + r.words for r in self.registers)
        return first, last - first

    def decode(self, words: dict[int, int]) -> dict[str, float]:
        """Register values by address -> measurement values (scaled). Missing words raise KeyError."""
        out: dict[str, float] = {}
        for reg in self.registers:
            raw = np.array([words[reg.address + i] for i in range(reg.words)], dtype=np.uint16)
            out[reg.measurement] = float(decode_words(raw[None, :], reg)[0])
        return out

    def encode(self, values: np.ndarray, measurements: list[str]) -> np.ndarray:
        """(n_rows, len(measurements)) values -> (n_rows, span words) uint16 registers from `span()[0]`.

        Measurements the map has but `measurements` lacks (or NaN values) are served as NaN for floats and
        0 for integers; values outside an integer type's range are clipped to it.
        """
        first, count = self.span()
        out = np.zeros((values.shape[0], count), dtype=np.uint16)
        for reg in self.registers:
            col = values[:, measurements.index(reg.measurement)] if reg.measurement in measurements else None
            if col is None:
                col = np.full(values.shape[0], np.nan)
            offset = reg.address - first
            out[:, offset : offset + reg.words] = encode_words(col, reg)
        return out


def encode_words(values: np.ndarray, reg: Register) -> np.ndarray:
    """Scaled values -> (n, words) uint16, vectorised."""
    words, dtype = TYPES[reg.type]
    raw = np.asarray(values, dtype=np.float64) / reg.scale
    if reg.type.startswith("f"):
        packed = raw.astype(dtype)
    else:
        info = np.iinfo(np.dtype(dtype).newbyteorder("="))
        raw = np.where(np.isfinite(raw), raw, 0.0)
        packed = np.clip(np.round(raw), info.min, info.max).astype(dtype)
    regs = packed.view(">u2").reshape(-1, words).astype(np.uint16)
    return regs[:, ::-1] if reg.word_order == "little" else regs


def decode_words(regs: np.ndarray, reg: Register) -> np.ndarray:
    """(n, words) uint16 -> scaled float64 values, vectorised."""
    words, dtype = TYPES[reg.type]
    regs = np.asarray(regs, dtype=np.uint16).reshape(-1, words)
    if reg.word_order == "little":
        regs = regs[:, ::-1]
    raw = np.ascontiguousarray(regs.astype(">u2")).view(dtype).reshape(-1)
    return raw.astype(np.float64) * reg.scale


def builtin_maps() -> list[str]:
    """Names of the maps shipped in spear_tui/meter/maps/."""
    folder = resources.files("spear_tui.meter") / "maps"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_map(name_or_path: str | Path) -> RegisterMap:
    """A built-in map by name (`generic`, `sdm630`) or a TOML file; UserError on anything malformed."""
    text_name = str(name_or_path)
    if text_name in builtin_maps():
        text = (resources.files("spear_tui.meter") / "maps" / f"{text_name}.toml").read_text()
        origin = f"built-in map {text_name!r}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise UserError(
                f"no register map {text_name!r} (built-in: {', '.join(builtin_maps())}, or a TOML file)"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read register map {path}: {exc}") from None
        origin = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"register map {origin} is not valid TOML: {exc}") from None
    return parse_map(data, origin)


def parse_map(data: dict, origin: str = "register map") -> RegisterMap:
    meter = data.get("meter", {})
    if not isinstance(meter, dict):
        raise UserError(f"{origin}: [meter] must be a table")
    table = meter.get("table", "holding")
    if table not in TABLES:
        raise UserError(f"{origin}: table must be one of {', '.join(TABLES)}, not {table!r}")
    default_order = meter.get("word_order", "big")
    rows = data.get("register")
    if not isinstance(rows, list) or not rows:
        raise UserError(f"{origin}: no [[register]] entries")
    registers: list[Register] = []
    for i, row in enumerate(rows, 1):
        where = f"{origin}: register {i}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: must be a table")
        unknown = set(row) - {"measurement", "address", "type", "scale", "unit", "word_order", "description"}
        if unknown:
            raise UserError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        name, address = row.get("measurement"), row.get("address")
        kind, scale = row.get("type", "f32"), row.get("scale", 1.0)
        order = row.get("word_order", default_order)
        if not isinstance(name, str) or not name:
            raise UserError(f"{where}: needs a measurement name")
        if not isinstance(address, int) or isinstance(address, bool) or not 0 <= address <= 0xFFFF:
            raise UserError(f"{where} ({name}): address must be an integer 0..65535")
        if kind not in TYPES:
            raise UserError(f"{where} ({name}): type must be one of {', '.join(TYPES)}, not {kind!r}")
        if address + TYPES[kind][0] > 0x10000:
            raise UserError(f"{where} ({name}): runs past address 65535")
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale == 0:
            raise UserError(f"{where} ({name}): scale must be a non-zero number")
        if order not in ("big", "little"):
            raise UserError(f"{where} ({name}): word_order must be big or little")
        unit = row.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise UserError(f"{where} ({name}): unit must be a string")
        registers.append(Register(name, address, kind, float(scale), unit, order))
    names = [r.measurement for r in registers]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UserError(f"{origin}: measurement {dup!r} appears twice")
    spans = sorted((r.address, r.address + r.words, r.measurement) for r in registers)
    for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise UserError(f"{origin}: registers {a!r} and {b!r} overlap")
    unit_id = meter.get("unit_id", 1)
    if not isinstance(unit_id, int) or not 0 <= unit_id <= 255:
        raise UserError(f"{origin}: unit_id must be 0..255")
    merge_gap = meter.get("merge_gap", 0)
    if not isinstance(merge_gap, int) or merge_gap < 0:
        raise UserError(f"{origin}: merge_gap must be a non-negative integer")
    return RegisterMap(
        name=str(meter.get("name", origin)),
        source=str(meter.get("source", "")),
        table=table,
        unit_id=unit_id,
        registers=tuple(registers),
        merge_gap=merge_gap,
    )
