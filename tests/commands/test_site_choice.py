"""Which models judge the traffic (commands/_options.detector_choice): --site, --model, the sample site
for the bundled samples, a remembered default site for live, else a learning period."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spear_tui.cli import main
from spear_tui.commands._options import add_detector_args, detector_choice
from spear_tui.engines.builder import models_dir, samples_dir
from spear_tui.errors import UserError
from spear_tui.site import open_site
from spear_tui.site.default import get_default, set_default
from spear_tui.site.manifest import Manifest, save_manifest


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_detector_args(p)
    return p.parse_args(list(argv))


def test_bundled_samples_use_the_sample_site_and_other_input_learns(tmp_path: Path) -> None:
    demo = [str(samples_dir() / "modbus_incidents.pcapng")]
    c = detector_choice(parse(), demo)
    assert not c.learn and c.models is None and c.site is None  # the shipped models, as before
    c = detector_choice(parse(), [str(tmp_path / "foreign.pcap")])
    assert c.learn and c.site is None
    c = detector_choice(parse(), [*demo, str(tmp_path / "foreign.pcap")])
    assert c.learn  # mixed with a foreign capture: not the sample home any more
    c = detector_choice(parse("--model", str(models_dir())), [str(tmp_path / "f.pcap")])
    assert not c.learn and c.models == models_dir()
    c = detector_choice(parse("--site", "sample"), [str(tmp_path / "f.pcap")])
    assert not c.learn and c.site.sample and c.models == models_dir()


def test_site_and_model_together_or_unknown_site_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not both"):
        detector_choice(parse("--site", "sample", "--model", str(models_dir())), [])
    with pytest.raises(UserError, match="learn it first"):
        detector_choice(parse("--site", "nowhere"), [])


def test_default_site_is_remembered_for_live(tmp_path: Path, capsys) -> None:
    assert get_default() is None
    with pytest.raises(UserError, match="learn it first"):
        set_default("office")  # only a learned site can be the default
    save_manifest(open_site("office", create=True).path, Manifest(name="office"))
    assert main(["site", "default", "office"]) == 0
    assert get_default() == "office"
    c = detector_choice(parse(), [], default_site=get_default())  # what `live` passes
    assert c.site is not None and c.site.name == "office" and not c.learn
    c = detector_choice(parse("--site", "sample"), [], default_site=get_default())
    assert c.site.sample  # --site wins
    assert main(["site", "default", "none"]) == 0 and get_default() is None
    capsys.readouterr()
    assert main(["site", "list"]) == 0
    assert capsys.readouterr().out.split() == ["sample", "office"]


def test_meter_learn_saves_the_model_into_the_site(capsys) -> None:
    office = samples_dir() / "meter" / "office_2025.csv"
    if not office.exists():
        pytest.skip("sample meter file missing")
    args = ["meter", "learn", str(office), "--site", "office", "--epochs", "2", "--train-to", "2025-03-31"]
    assert main(args) == 0
    site = open_site("office")
    (model,) = site.meter_models()
    assert site.manifest.meter["model"] == str(model) and site.manifest.meter["file"] == str(office)
    from spear_tui.commands._meter_console import checkpoint_info

    assert checkpoint_info(model) == (96, "active_power")
    capsys.readouterr()
    assert main(["meter", "scan", str(office), "--site", "office", "--json"]) in (0, 1)
    assert capsys.readouterr().out.count('"loaded": "' + str(model)) == 1  # scored by the site's model
    assert main(["meter", "learn", str(office), "--site", "sample"]) == 2
    assert "read-only" in capsys.readouterr().err
