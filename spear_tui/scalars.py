"""Numbers out of polars aggregates: `Series.min()`/`.max()`/`.item()` are typed as any Python literal
(dates, strings, lists, None), so the type checker cannot see that a time or frame column yields a
number. These say so once, and fail loudly if a column ever is not numeric."""

from __future__ import annotations


def num(value: object) -> float:
    """A numeric aggregate as a float (TypeError for None or a non-number, as float() would)."""
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def whole(value: object) -> int:
    """An integer aggregate (frame numbers) as an int."""
    if isinstance(value, int | float):
        return int(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")
