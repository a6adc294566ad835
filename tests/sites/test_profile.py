"""Site names and paths, the manifest file and --from/--to windows: pure logic, no captures."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from spear_tui.errors import UserError
from spear_tui.site import open_site
from spear_tui.site.manifest import Accepted, Manifest, load_manifest, save_manifest
from spear_tui.site.paths import site_path, sites_dir
from spear_tui.site.window import parse_window


def test_names_live_under_the_xdg_data_dir_and_paths_are_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert site_path("home") == tmp_path / "data" / "spear-tui" / "sites" / "home"
    assert site_path(str(tmp_path / "x")) == tmp_path / "x"
    assert site_path("./rel") == Path("./rel")
    assert sites_dir() == tmp_path / "data" / "spear-tui" / "sites"
    for bad in ("a b", "-x", "", "x" * 65):
        with pytest.raises(UserError):
            site_path(bad)


def test_sample_site_is_the_shipped_models_and_read_only(monkeypatch, tmp_path: Path) -> None:
    site = open_site("sample")
    assert site.sample and site.lstm_checkpoint("modbus") is not None and site.meter_models()
    with pytest.raises(UserError, match="read-only"):
        site.save()
    monkeypatch.setenv("SPEAR_TUI_MODELS", str(tmp_path))  # SPEAR_TUI_MODELS still names the models
    assert open_site("sample").path == tmp_path and open_site("sample").lstm_checkpoint("modbus") is None


def test_unlearned_site_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="learn it first"):
        open_site(str(tmp_path / "never"))


def test_manifest_round_trip_and_damage(tmp_path: Path) -> None:
    m = Manifest(name="plant", captures=["a.pcap"], messages={"modbus": 3})
    m.accepted.append(Accepted("s.db#4", "modbus", {"masters": [["10.0.0.9"]]}, "why", "ann", 1.5))
    save_manifest(tmp_path, m)
    back = load_manifest(tmp_path)
    assert back == m
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot read site manifest"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(UserError, match="not a spear-tui site manifest"):
        load_manifest(tmp_path)


def test_window_by_offset_time_and_frame() -> None:
    t = pl.DataFrame({"time": [100.0, 110.0, 130.0, 160.0], "frame": [1, 2, 3, 4]})
    w = parse_window("+10", "+30")
    w.origin = 100.0
    assert w.apply(t)["frame"].to_list() == [2, 3]
    w = parse_window("frame:2", "frame:3")
    assert w.apply(t)["frame"].to_list() == [2, 3]
    w = parse_window("1970-01-01T00:02:00", None)  # 120 s after the epoch, UTC
    assert w.apply(t)["frame"].to_list() == [3, 4]
    with pytest.raises(UserError, match="--from"):
        parse_window("yesterday", None)
