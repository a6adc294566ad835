"""Exact per-message fields for frames the fast path could not align (placeholder, replaced below)."""

from __future__ import annotations


class ExactResolver:
    def __init__(self, path, decode_as, file_index, server_ports, register):
        pass

    def resolve(self, protocol, bad):
        import polars as pl

        return pl.DataFrame(), 0, bad

    def close(self) -> None:
        pass
