"""`meter scan` with its defaults on a real public year: E. Keogh's Dutch facility power demand, 1997.

The file (tests/data/real/meter, source in SOURCES.md) is one integer a line, 15-minute samples from
1997-01-01 00:00; the test writes it as a timestamped CSV (the only conversion) and trains as a user
would: on the first weeks of the year (to 10 April), the holidays they know of in that span excluded.

Ground truth, decided without the model: the days that run against the facility's weekly schedule.
- weekdays that are Dutch holidays, from the `holidays` package (NL, public + optional categories, the
  latter adding Liberation Day, 5 May);
- weekend days on which the facility worked: working-hours (08:00-17:00) load above the midpoint of the
  year's median weekday and median weekend working-hours load.
The same midpoint rule finds exactly the nine weekday holidays as "closed weekdays", no other weekday.
"""

import contextlib
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from spear_tui.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "real" / "meter" / "keogh_dutch_power_1997.txt"
TRAIN_TO = date(1997, 4, 10)
KNOWN_IN_TRAINING = ["1997-01-01", "1997-03-28", "1997-03-31"]  # New Year, Good Friday, Easter Monday

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DATA.exists(), reason="Keogh power data missing")]


def _run(argv: list[str]) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 1), err.getvalue()
    return code, json.loads(out.getvalue())


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    import holidays

    x = np.loadtxt(DATA, dtype=np.int64)
    assert x.size == 35_040
    start = datetime(1997, 1, 1)
    csv = tmp_path_factory.mktemp("keogh") / "keogh_1997.csv"
    stamps = [(start + timedelta(minutes=15 * i)).isoformat() for i in range(x.size)]
    csv.write_text("timestamp,active_power\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, x, strict=True)))
    days = [date(1997, 1, 1) + timedelta(days=i) for i in range(365)]
    work = x.reshape(365, 96)[:, 32:68].mean(axis=1)
    weekday = np.array([d.weekday() < 5 for d in days])
    mid = (np.median(work[weekday]) + np.median(work[~weekday])) / 2
    nl = holidays.country_holidays("NL", years=1997, categories=("public", "optional"))
    hol = {d for d in days if d in nl and d.weekday() < 5}
    off_schedule = {d for d, w, k in zip(days, work, weekday, strict=True) if (w < mid) == k}
    assert {d for d in off_schedule if d.weekday() < 5} == hol  # the load agrees with the calendar
    return csv, hol, off_schedule


def _scores(doc: dict, truth: set[date]) -> tuple[float, float, list[str]]:
    test = [d for d in doc["days"] if date.fromisoformat(d["date"]) > TRAIN_TO]
    flagged = {date.fromisoformat(d["date"]) for d in test if d["flagged"]}
    positives = {d for d in truth if d > TRAIN_TO}
    tp = len(flagged & positives)
    return tp / max(len(flagged), 1), tp / len(positives), sorted(str(d) for d in flagged - positives)


def test_defaults_find_the_days_off_schedule_with_precision_and_recall_09(year):
    csv, hol, off_schedule = year
    code, doc = _run(["meter", "scan", str(csv), "--train-to", str(TRAIN_TO), "--exclude",
                      *KNOWN_IN_TRAINING, "--json"])
    assert doc["model"]["calendar"] is True and doc["threshold_rule"].startswith("weekday")
    precision, recall, false_alarms = _scores(doc, off_schedule)
    print(f"off-schedule days: precision {precision:.2f} recall {recall:.2f}, false alarms {false_alarms}")
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, false_alarms)
    assert _scores(doc, hol)[1] == 1.0  # every weekday holiday after training is flagged
    assert code == 1
    by_date = {d["date"]: d for d in doc["days"]}
    for day in sorted(hol):  # why: working hours below expected, less energy than expected
        why = by_date[str(day)]["why"]
        assert any(h["direction"] == "below" and "08:00" <= h["from"] <= "12:00" for h in why["hours"])
        assert why["energy_change"] < -0.05
    saturday = by_date["1997-10-04"]  # the working Saturday
    assert saturday["flagged"] and saturday["why"]["energy_change"] > 0.05
    assert all(h["direction"] == "above" for h in saturday["why"]["hours"])


def test_with_the_dutch_calendar_public_holidays_are_expected(year):
    """--holidays NL tells the model which days are holidays (encoded as Sundays): the public ones are
    then expected to be quiet and are not flagged; Liberation Day (an optional-category day the
    public calendar does not list in 1997) still is."""
    csv, hol, _ = year
    _, doc = _run(["meter", "scan", str(csv), "--train-to", str(TRAIN_TO), "--exclude",
                   *KNOWN_IN_TRAINING, "--holidays", "NL", "--json"])
    by_date = {d["date"]: d for d in doc["days"]}
    public_after = [d for d in hol if d > TRAIN_TO and d != date(1997, 5, 5)]
    flagged_public = [str(d) for d in public_after if by_date[str(d)]["flagged"]]
    assert len(flagged_public) <= 1, flagged_public
    assert by_date["1997-05-05"]["flagged"]
    assert by_date["1997-05-05"]["why"]["holiday"] is None
