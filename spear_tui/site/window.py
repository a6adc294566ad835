"""`--from/--to`: pick the normal part of a capture by time or by frame number.

--from 2026-12-03T07:55:10   absolute time (ISO 8601; UTC unless an offset is given)
--from +30                   seconds after the first message of the captures
--from frame:1200            frame number (tshark's, within each file)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from spear_tui.errors import UserError
from spear_tui.scalars import num


@dataclass(frozen=True)
class Bound:
    kind: str  # "time" | "offset" | "frame"
    value: float

    @classmethod
    def parse(cls, text: str, option: str) -> Bound:
        t = text.strip()
        try:
            if t.startswith("frame:"):
                return cls("frame", float(int(t[6:])))
            if t.startswith("+"):
                v = float(t[1:].rstrip("s"))
                if not math.isfinite(v) or v < 0:
                    raise ValueError
                return cls("offset", v)
            dt = datetime.fromisoformat(t)
            return cls("time", (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp())
        except ValueError:
            raise UserError(
                f"{option} {text!r}: give a time (2026-12-03T07:55:10), +SECONDS after the start, or frame:N"
            ) from None


@dataclass
class Window:
    start: Bound | None = None
    end: Bound | None = None
    origin: float | None = None  # time of the first message seen (for +SECONDS)

    def describe(self) -> dict[str, str]:
        out = {}
        for key, b in (("from", self.start), ("to", self.end)):
            if b is not None:
                out[key] = {"frame": f"frame:{int(b.value)}", "offset": f"+{b.value:g}"}.get(
                    b.kind, datetime.fromtimestamp(b.value, UTC).isoformat()
                )
        return out

    def _expr(self, b: Bound, lower: bool) -> pl.Expr:
        if b.kind == "frame":
            col, v = pl.col("frame"), b.value
        else:
            col = pl.col("time")
            v = b.value + (self.origin or 0.0) if b.kind == "offset" else b.value
        return col >= v if lower else col <= v

    def apply(self, table: pl.DataFrame) -> pl.DataFrame:
        if table.height == 0 or (self.start is None and self.end is None):
            return table
        if self.origin is None:
            self.origin = num(table["time"].min())
        cond = pl.lit(True)
        if self.start is not None:
            cond = cond & self._expr(self.start, True)
        if self.end is not None:
            cond = cond & self._expr(self.end, False)
        return table.filter(cond)


def parse_window(start: str | None, end: str | None) -> Window:
    return Window(Bound.parse(start, "--from") if start else None, Bound.parse(end, "--to") if end else None)
