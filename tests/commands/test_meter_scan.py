"""`spear-tui meter scan`: JSON contract, exit codes, saved models, one-line errors."""

import contextlib
import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from spear_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "sample_captures" / "meter" / "office_2025.csv"
TAXI = ROOT / "tests" / "data" / "real" / "nab_nyc_taxi.csv"
BASE = ["meter", "scan", str(CSV), "--tz", "Europe/Athens", "--epochs", "3", "--json"]

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="sample meter file not generated")


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model = tmp_path_factory.mktemp("meter") / "active.ckpt"
    code, out, err = _run(BASE + ["--train-from", "2025-01-07", "--train-to", "2025-03-09", "--exclude",
                                  "2025-01-01..2025-01-06", "2025-03-03", "--save-model", str(model)])
    return code, json.loads(out), model


def test_json_contract_and_exit_code(trained):
    code, doc, _ = trained
    assert doc["measurement"] == "active_power" and doc["threshold_rule"].startswith("weekday")
    assert doc["model"]["calendar"] is True  # 9 training weeks: conditioning on by default
    days = doc["days"]
    assert len(days) == 365 and days[0]["date"] == "2025-01-01" and days[-1]["date"] == "2025-12-31"
    assert set(days[0]) >= {"date", "mse", "flagged", "complete", "threshold"}
    outage = next(d for d in days if d["date"] == "2025-04-09")  # labelled 3-hour logger outage
    assert outage == {**outage, "mse": None, "flagged": False, "complete": False}
    assert doc["flagged"] == [d["date"] for d in days if d["flagged"]]
    assert all(d["flagged"] == (d["mse"] is not None and d["mse"] > d["threshold"]) for d in days)
    assert doc["threshold"] == pytest.approx(days[-1]["threshold"])
    span = (date(2025, 3, 9) - date(2025, 1, 7)).days + 1
    assert doc["model"]["trained_on_days"] == span - 1  # minus the excluded Clean Monday (2025-03-03)
    assert code == (1 if doc["flagged"] else 0)
    for d in days:  # every flagged day says why, and only flagged days do
        assert ("why" in d) == d["flagged"]
    if doc["flagged"]:
        why = next(d for d in days if d["flagged"])["why"]
        assert why["hours"] and why["energy_unit"] and why["expected_energy"] > 0


def test_saved_model_scores_the_same_and_rethresholds(trained):
    _, doc, model = trained
    mse = np.array([d["mse"] if d["mse"] is not None else np.nan for d in doc["days"]])
    cut = float(np.nanmedian(mse))
    code, out, _ = _run(["meter", "scan", str(CSV), "--tz", "Europe/Athens", "--json", "--model", str(model),
                         "--threshold", str(cut)])
    again = json.loads(out)
    mse2 = np.array([d["mse"] if d["mse"] is not None else np.nan for d in again["days"]])
    np.testing.assert_allclose(mse2, mse, rtol=1e-4, atol=1e-6, equal_nan=True)
    assert again["model"] == {"loaded": str(model), "calendar": True, "holidays": None}
    assert again["flagged"] == [d["date"] for d in again["days"] if d["mse"] is not None and d["mse"] > cut]
    assert code == 1 and again["threshold_rule"] == f"fixed {cut:g}"
    code, out, _ = _run(["meter", "scan", str(CSV), "--tz", "Europe/Athens", "--model", str(model),
                         "--threshold", "1e9"])
    assert code == 0 and "0 flagged day(s)" in out


@pytest.mark.skipif(not TAXI.exists(), reason="nyc_taxi copy missing")
def test_real_series_48_samples_with_us_calendar():
    code, out, err = _run(["meter", "scan", str(TAXI), "--samples-per-day", "48",
                           "--holidays", "US", "--epochs", "2", "--json"])
    doc = json.loads(out)
    assert doc["measurement"] == "value" and len(doc["days"]) == 215
    assert all(d["complete"] for d in doc["days"])
    assert doc["model"]["calendar"] is True and doc["model"]["holidays"] == "US"
    assert code == (1 if doc["flagged"] else 0)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["meter", "scan", "/nonexistent/meter.csv"], "not found"),
        (["meter", "scan", str(CSV), "--threshold", "lots"], "bad threshold"),
        (["meter", "scan", str(CSV), "--measurement", "frequency_of_unicorns"], "no measurement"),
        (["meter", "scan", str(CSV), "--holidays", "GR", "--no-calendar"], "--holidays needs calendar"),
        (["meter", "scan", str(CSV), "--holidays", "XX"], "unknown holiday calendar"),
        (["meter", "scan", str(CSV), "--holidays", "US-ZZ"], "unknown subdivision"),
        (["meter", "scan", str(CSV), "--train-from", "2030-01-01"], "at least 4 normal days"),
        (["meter", "scan"], "needs a FILE"),
        (["meter", "scan", str(CSV), "--model", str(CSV)], "not a spear-tui checkpoint"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message):
    code, out, err = _run(argv)
    assert code == 2 and out == ""
    assert err.startswith("spear-tui: error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_date_is_a_usage_error():
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(io.StringIO()):
        main(["meter", "scan", str(CSV), "--train-from", "last tuesday"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "extra,expected",
    [
        (["--train-to", "2025-01-15"], False),  # 9 days: one Monday, one Sunday -> off by default
        (["--train-to", "2025-01-20"], True),  # two of each weekday -> on by default
        (["--train-to", "2025-01-20", "--no-calendar"], False),
        (["--train-to", "2025-01-15", "--calendar"], True),
        (["--train-to", "2025-01-15", "--holidays", "GR"], True),  # a holiday calendar needs it
    ],
)
def test_calendar_default_follows_the_training_span(extra, expected):
    code, out, _ = _run(["meter", "scan", str(CSV), "--tz", "Europe/Athens", "--epochs", "1", "--json",
                         "--train-from", "2025-01-07", *extra])
    assert json.loads(out)["model"]["calendar"] is expected
