"""Generate the sample meter files: one year of a small office in Thessaloniki at 15-minute resolution.

    .venv/bin/python sample_captures/meter/generate.py          # writes office_2025.{csv,parquet,labels.json}

Seeded and deterministic. The load is built from parts a facility manager would recognise: a night base
load (servers, fridges, security lighting), occupancy on weekdays (ramps at 07:00-08:30 and 17:00-19:00,
a lunch dip), a short Saturday morning, HVAC driven by a synthetic Thessaloniki temperature (heat pumps in
winter, cooling in summer), Greek public holidays (they look like Sundays), and noise. Reactive power follows
the mix of resistive and motor loads; apparent power, phase currents and voltages follow from the physics
(S = sqrt(P^2 + Q^2), I = S_phase / U_phase, voltage drops a little under load).

Injected, labelled incidents (see README.md): weekday holidays, a night with everything left on, a stuck
meter, a 3-hour outage (rows missing), a 45-minute gap, a reactive-power spike.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

SEED = 20250101
TZ = "Europe/Athens"
YEAR = 2025
STEP = dt.timedelta(minutes=15)
OUT = Path(__file__).resolve().parent
NAME = f"office_{YEAR}"


def orthodox_easter(year: int) -> dt.date:
    """Orthodox Easter (Meeus' Julian algorithm, converted to the Gregorian calendar; valid 1900-2099)."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    return dt.date(year, month, day + 1) + dt.timedelta(days=13)


def greek_holidays(year: int) -> dict[dt.date, str]:
    """Greek national public holidays (Law 1157/1981 and the Orthodox calendar)."""
    easter = orthodox_easter(year)
    return {
        dt.date(year, 1, 1): "New Year's Day",
        dt.date(year, 1, 6): "Epiphany",
        easter - dt.timedelta(days=48): "Clean Monday",
        dt.date(year, 3, 25): "Independence Day",
        easter - dt.timedelta(days=2): "Orthodox Good Friday",
        easter + dt.timedelta(days=1): "Easter Monday",
        dt.date(year, 5, 1): "Labour Day",
        easter + dt.timedelta(days=50): "Whit Monday (Holy Spirit)",
        dt.date(year, 8, 15): "Assumption of Mary",
        dt.date(year, 10, 28): "Ochi Day",
        dt.date(year, 12, 25): "Christmas Day",
        dt.date(year, 12, 26): "Synaxis of the Theotokos",
    }


def smooth_step(x: np.ndarray, start: float, end: float) -> np.ndarray:
    t = np.clip((x - start) / (end - start), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise with stationary standard deviation `sigma` (vectorised via a recursive filter)."""
    eps = rng.normal(0.0, sigma * np.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):  # 35k steps once at generation time; not a hot path
        acc = phi * acc + eps[i]
        out[i] = acc
    return out


def local_grid(year: int) -> tuple[np.ndarray, pl.DataFrame]:
    """Absolute 15-minute instants covering the local year, and their local wall-clock parts."""
    zone = ZoneInfo(TZ)
    start = dt.datetime(year, 1, 1, tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone).astimezone(dt.UTC)
    utc = pl.datetime_range(start, end - STEP, interval="15m", eager=True, time_unit="us", time_zone="UTC")
    local = utc.dt.convert_time_zone(TZ)
    parts = pl.DataFrame(
        {
            "utc": utc,
            "local": local,
            "date": local.dt.date(),
            "hour": local.dt.hour().cast(pl.Float64) + local.dt.minute().cast(pl.Float64) / 60.0,
            "weekday": local.dt.weekday(),  # 1 = Monday
            "doy": local.dt.ordinal_day(),
        }
    )
    return utc.to_numpy(), parts


def generate(year: int = YEAR, seed: int = SEED) -> tuple[pl.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    _, parts = local_grid(year)
    n = parts.height
    hour = parts["hour"].to_numpy()
    weekday = parts["weekday"].to_numpy()
    doy = parts["doy"].to_numpy().astype(float)
    dates = parts["date"].to_list()
    holidays = greek_holidays(year)
    is_holiday = np.array([d in holidays for d in dates])

    # Outdoor temperature: seasonal mean, day-to-day weather (AR(1) over days), and a daily swing.
    n_days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    weather = ar1(rng, n_days, 0.8, 2.5)
    day_index = np.array([(d - dt.date(year, 1, 1)).days for d in dates])
    t_mean = 16.0 + 10.5 * np.sin(2 * np.pi * (doy - 115) / 365.0) + weather[day_index]
    t_out = t_mean + 4.5 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)

    # Occupancy 0..1 by day type.
    workday = (weekday <= 5) & ~is_holiday
    saturday = (weekday == 6) & ~is_holiday
    occ_work = smooth_step(hour, 7.0, 8.5) * (1 - smooth_step(hour, 17.0, 19.0))
    occ_work *= 1 - 0.12 * np.exp(-(((hour - 14.0) / 0.6) ** 2))  # lunch dip
    occ_sat = 0.3 * smooth_step(hour, 8.5, 9.5) * (1 - smooth_step(hour, 12.5, 13.5))
    occupancy = np.where(workday, occ_work, np.where(saturday, occ_sat, 0.0))
    occupancy *= 1 + 0.05 * rng.normal(size=n_days)[day_index]  # how busy the office is that day

    base = 7.5 + 0.6 * np.cos(2 * np.pi * (hour - 3.0) / 24.0)  # servers, fridges, security lights
    lighting = 9.0 * occupancy * (1.15 - 0.3 * np.sin(2 * np.pi * (doy - 80) / 365.0))  # more in winter
    plugs = 14.0 * occupancy
    # HVAC: heat pumps below 16 °C, chillers above 22 °C, when occupied (pre-heat/cool from 06:30).
    hvac_on = np.where(workday, smooth_step(hour, 6.5, 7.5) * (1 - smooth_step(hour, 17.5, 18.5)), 0.0)
    hvac_on = np.maximum(hvac_on, 0.15 * saturday * occ_sat / 0.3)
    heating = 2.2 * np.clip(16.0 - t_out, 0, None) * hvac_on
    heating += 0.25 * np.clip(5.0 - t_out, 0, None)  # frost protection at any hour
    cooling = 3.0 * np.clip(t_out - 22.0, 0, None) * hvac_on
    appliances = rng.exponential(0.6, n) * (rng.random(n) < 0.08 + 0.3 * occupancy)  # kettles, copiers

    resistive = base + lighting + plugs + appliances
    motors = heating + cooling
    noise = np.exp(ar1(rng, n, 0.9, 0.03))
    p = (resistive + motors) * noise
    q = (resistive * np.tan(np.arccos(0.96)) + motors * np.tan(np.arccos(0.84))) * noise
    q *= np.exp(rng.normal(0.0, 0.04, n))

    incidents: list[dict] = []

    def window(day: dt.date, start_h: float, end_h: float) -> np.ndarray:
        d = np.array([x == day for x in dates])
        return d & (hour >= start_h) & (hour < end_h)

    def label(kind: str, day: dt.date, start: dt.datetime, end: dt.datetime, text: str, **extra) -> None:
        zone = ZoneInfo(TZ)
        incidents.append(
            {
                "kind": kind,
                "start": start.replace(tzinfo=zone).timestamp(),
                "end": end.replace(tzinfo=zone).timestamp(),
                "date": day.isoformat(),
                "description": text,
                **extra,
            }
        )

    for day, name in sorted(holidays.items()):
        if day.weekday() < 5:
            label(
                "holiday",
                day,
                dt.datetime.combine(day, dt.time()),
                dt.datetime.combine(day, dt.time()) + dt.timedelta(days=1),
                f"Greek public holiday on a {day:%A}: {name}; the office is closed "
                "and the load looks like a Sunday's",
                expect="flagged without calendar conditioning",
            )

    # Night with everything left on: lights, plugs and HVAC stay at the daytime level after a late event.
    night_day = dt.date(year, 11, 20)
    prev = night_day - dt.timedelta(days=1)
    on = window(prev, 19.0, 24.0) | window(night_day, 0.0, 7.0)
    level = 0.85 * (9.0 + 14.0) + 2.2 * np.clip(16.0 - t_out, 0, None)
    p = np.where(on, (base + level) * noise, p)
    q = np.where(
        on,
        (base + 9.0 + 14.0) * 0.85 * np.tan(np.arccos(0.96)) * noise
        + 2.2 * np.clip(16.0 - t_out, 0, None) * np.tan(np.arccos(0.84)),
        q,
    )
    label(
        "night_load",
        night_day,
        dt.datetime.combine(prev, dt.time(19)),
        dt.datetime.combine(night_day, dt.time(7)),
        "lighting, plugs and heating left on overnight after a late event (from 19:00 the evening before "
        "until 07:00); the labelled date is the day whose night is affected",
    )

    # Reactive power spike: a capacitor bank / compressor fault; active power unchanged.
    spike_day = dt.date(year, 10, 8)
    spike = window(spike_day, 9.0, 12.0)
    q = np.where(spike, q * 4.0 + 25.0, q)
    label(
        "reactive_spike",
        spike_day,
        dt.datetime.combine(spike_day, dt.time(9)),
        dt.datetime.combine(spike_day, dt.time(12)),
        "reactive power x4 + 25 kvar for three hours (compressor / capacitor-bank fault); active power "
        "unchanged, apparent power and currents rise with it",
        measurement="reactive_power",
    )

    s = np.sqrt(p * p + q * q)
    share = np.array([0.355, 0.335, 0.31])[:, None] * np.exp(rng.normal(0.0, 0.02, (3, n)))
    share /= share.sum(axis=0, keepdims=True)
    grid_v = 231.0 + 2.0 * np.sin(2 * np.pi * (hour - 4.0) / 24.0) + ar1(rng, n, 0.95, 0.8)
    volts = np.stack([grid_v + off for off in (0.8, -0.6, 0.2)])
    amps = s[None, :] * share * 1000.0 / volts
    volts = volts - 0.012 * amps + rng.normal(0.0, 0.25, (3, n))
    amps = s[None, :] * share * 1000.0 / volts

    frame = pl.DataFrame(
        {
            "time": parts["local"],
            "active_power_kw": np.round(p, 2),
            "reactive_power_kvar": np.round(q, 2),
            "apparent_power_kva": np.round(s, 2),
            "voltage_l1_v": np.round(volts[0], 1),
            "voltage_l2_v": np.round(volts[1], 1),
            "voltage_l3_v": np.round(volts[2], 1),
            "current_l1_a": np.round(amps[0], 1),
            "current_l2_a": np.round(amps[1], 1),
            "current_l3_a": np.round(amps[2], 1),
        }
    )

    # Stuck meter: the logger repeats the last reading all day (registers frozen).
    stuck_day = dt.date(year, 7, 9)
    stuck = pl.Series(window(stuck_day, 0.0, 24.0))
    first_idx = int(np.flatnonzero(stuck.to_numpy())[0]) - 1
    frozen = frame.row(first_idx, named=True)
    frame = frame.with_columns(
        [pl.when(stuck).then(pl.lit(frozen[c])).otherwise(pl.col(c)).alias(c) for c in frame.columns[1:]]
    )
    label(
        "stuck",
        stuck_day,
        dt.datetime.combine(stuck_day, dt.time()),
        dt.datetime.combine(stuck_day + dt.timedelta(days=1), dt.time()),
        "meter stuck: every register repeats the previous midnight's reading for the whole day "
        "(zero variance)",
    )

    # Outage: 3 hours of missing rows (longer than the 1-hour max_gap: the day is marked incomplete).
    outage_day = dt.date(year, 4, 9)
    label(
        "outage",
        outage_day,
        dt.datetime.combine(outage_day, dt.time(10)),
        dt.datetime.combine(outage_day, dt.time(13)),
        "logger outage: no rows from 10:00 to 13:00 local; with the default max_gap of 1 hour the day is "
        "marked incomplete (interpolated, never silently scored)",
        expect="incomplete",
    )
    # A short gap: 45 minutes missing, interpolated; the day stays complete.
    gap_day = dt.date(year, 6, 4)
    label(
        "gap",
        gap_day,
        dt.datetime.combine(gap_day, dt.time(14)),
        dt.datetime.combine(gap_day, dt.time(14, 45)),
        "45 minutes of missing rows (14:00-14:45 local), shorter than max_gap: interpolated, the day stays "
        "complete and should not be flagged",
        expect="interpolated",
    )
    drop = window(outage_day, 10.0, 13.0) | window(gap_day, 14.0, 14.75)
    frame = frame.filter(~pl.Series(drop))

    incidents.sort(key=lambda i: i["start"])
    labels = {
        "file": f"{NAME}.csv",
        "files": [f"{NAME}.csv", f"{NAME}.parquet"],
        "timezone": TZ,
        "samples_per_day": 96,
        "holiday_calendar": "GR",
        "generator": f"sample_captures/meter/generate.py (seed {seed})",
        "incidents": incidents,
    }
    return frame, labels


def write(frame: pl.DataFrame, labels: dict, out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    csv = frame.with_columns(pl.col("time").dt.strftime("%Y-%m-%dT%H:%M%:z"))
    csv.write_csv(out / f"{NAME}.csv", float_precision=None)
    # Parquet: time as UTC instants (the zone is in labels.json and the README); floats zstd-compressed.
    frame.with_columns(pl.col("time").dt.convert_time_zone("UTC")).write_parquet(
        out / f"{NAME}.parquet", compression="zstd", compression_level=19, statistics=True
    )
    (out / f"{NAME}.labels.json").write_text(json.dumps(labels, indent=2) + "\n")


def main() -> None:
    frame, labels = generate()
    write(frame, labels)
    sizes = {p.name: p.stat().st_size for p in sorted(OUT.glob(f"{NAME}.*"))}
    print(
        f"{frame.height} rows, {len(labels['incidents'])} incidents; "
        + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
    )


if __name__ == "__main__":
    main()
