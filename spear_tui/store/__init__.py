"""Durable alert/score store (SQLite, WAL): the engine writes it, review/export/console read it."""

from spear_tui.store.reader import AlertRecord, Session, StoreReader, open_store
from spear_tui.store.schema import VERSION as STORE_VERSION
from spear_tui.store.sqlite_store import AlertStore

__all__ = ["STORE_VERSION", "AlertRecord", "AlertStore", "Session", "StoreReader", "open_store"]
