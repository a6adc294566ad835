"""The normal day of a small office / smart home, as scheduled actions per protocol.

Times passed in and out are wall seconds from the start of a recording; ``day_start`` is the
virtual time of day (seconds after midnight) at wall time 0. Each protocol draws from its own
seeded random stream, so adding an incident never changes the normal traffic around it.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

from .modbus import GATEWAY_ADDR, METER_UNITS, PLC_ADDR
from .schedule import COMPRESSION, Schedule, wall

SCADA_ADDR = "127.0.4.1"
BMS = ("bms", "127.0.5.10", 9001)


@dataclass(frozen=True)
class Sensor:
    name: str
    client_id: str
    address: str
    topic: str
    period: float  # virtual seconds; 0 = event-driven
    qos: int
    kind: str


SENSORS = (
    Sensor("temp-living", "th-living-01", "127.0.1.1", "home/living/temperature", 60, 0, "temp"),
    Sensor("temp-bedroom", "th-bedroom-01", "127.0.1.2", "home/bedroom/temperature", 60, 0, "temp"),
    Sensor("hum-bath", "hum-bath-01", "127.0.1.3", "home/bathroom/humidity", 120, 0, "hum"),
    Sensor("energy-main", "emeter-main", "127.0.1.4", "home/energy/main", 30, 1, "energy"),
    Sensor("door-front", "door-front", "127.0.1.5", "home/hall/door", 0, 1, "door"),
    Sensor("motion-hall", "pir-hall", "127.0.1.6", "home/hall/motion", 0, 0, "motion"),
    Sensor("co2-office", "co2-office-01", "127.0.1.7", "office/meeting/co2", 60, 0, "co2"),
    Sensor("plug-washer", "plug-washer", "127.0.1.8", "home/laundry/washer/power", 60, 1, "plug"),
    Sensor("lux-garden", "lux-garden", "127.0.1.9", "home/garden/illuminance", 300, 0, "lux"),
    Sensor("thermostat", "thermostat-living", "127.0.1.10", "home/living/thermostat/state", 300, 1, "thermo"),
)
DASHBOARD = ("dashboard", "dashboard-wall", "127.0.2.1")
SETPOINT_TOPIC = "home/living/thermostat/set"

#: Door and motion events per virtual hour, by hour of day (people at home/office).
ACTIVITY = (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 2, 6, 8, 4, 3, 3, 4, 3, 3, 3, 4, 6, 8, 7, 5, 4, 2, 0.5)


def hour_of(virtual: float) -> float:
    return (virtual % 86400) / 3600


def _daily(virtual: float, low: float, high: float, peak_hour: float = 15) -> float:
    """A smooth daily cycle between low and high, peaking at peak_hour."""
    phase = 2 * math.pi * (hour_of(virtual) - peak_hour) / 24
    return low + (high - low) * (0.5 + 0.5 * math.cos(phase))


def payload(sensor: Sensor, virtual: float, rng: random.Random, state: dict[str, float]) -> bytes:
    """A JSON reading with the sensor's characteristic fields (so its sizes are characteristic)."""
    h = hour_of(virtual)
    if sensor.kind == "temp":
        body = {
            "temperature": round(_daily(virtual, 19.0, 23.0) + rng.gauss(0, 0.1), 1),
            "unit": "C",
            "battery": 87,
        }
    elif sensor.kind == "hum":
        shower = 25 if 6.5 <= h < 7.5 or 21 <= h < 21.5 else 0
        body = {"humidity": round(48 + shower + rng.gauss(0, 1), 1)}
    elif sensor.kind == "energy":
        base = 350 + (1800 if 7 <= h < 9 or 17 <= h < 22 else 400 if 9 <= h < 17 else 0)
        power = max(80.0, base + rng.gauss(0, 120))
        state["kwh"] = state.get("kwh", 12345.0) + power * 30 / 3.6e6
        body = {
            "power_w": round(power, 1),
            "energy_kwh": round(state["kwh"], 3),
            "voltage_v": round(230 + rng.gauss(0, 1.5), 1),
            "current_a": round(power / 230, 2),
        }
    elif sensor.kind == "co2":
        body = {"co2_ppm": int(420 + (500 if 9 <= h < 17 else 0) + rng.gauss(0, 25))}
    elif sensor.kind == "plug":
        on = 10 <= h < 11.5 or 19 <= h < 20
        body = {
            "power_w": round(max(0.0, (1900 if on else 1.2) + rng.gauss(0, 20 if on else 0.2)), 1),
            "state": "ON" if on else "OFF",
        }
    elif sensor.kind == "lux":
        body = {
            "illuminance_lx": int(max(0.0, 40000 * math.sin(math.pi * (h - 6) / 14)) if 6 <= h < 20 else 0)
        }
    elif sensor.kind == "thermo":
        body = {"mode": "heat", "setpoint": state.get("setpoint", 21.0), "heating": h < 9 or h >= 17}
    elif sensor.kind == "door":
        state["open"] = 1 - state.get("open", 0)
        body = {"contact": "open" if state["open"] else "closed", "battery": 92}
    else:
        body = {"occupancy": True, "illuminance": int(_daily(virtual, 0, 300, 13))}
    return json.dumps(body, separators=(",", ":")).encode()


def _events(rng: random.Random, v0: float, v1: float, scale: float) -> list[float]:
    """Poisson event times (virtual) whose rate follows ACTIVITY."""
    out, v = [], v0
    while v < v1:
        v += rng.expovariate(max(ACTIVITY[int(hour_of(v))] * scale, 0.05) / 3600)
        if v < v1:
            out.append(v)
    return out


def mqtt_day(
    s: Schedule, rng: random.Random, t0: float, t1: float, day_start: float, drops: bool = True
) -> None:
    """Sensors' publishes, the dashboard's setpoint commands and a few reconnects in [t0, t1)."""
    v0, v1 = day_start + t0 * COMPRESSION, day_start + t1 * COMPRESSION

    def at(v: float) -> float:
        return (v - day_start) / COMPRESSION

    offline: dict[str, tuple[float, float]] = {}
    if drops:
        for name in rng.sample([x.name for x in SENSORS if x.period], 2):
            v = rng.uniform(v0, v1 - 900)
            offline[name] = (v, v + rng.uniform(180, 600))
    for sensor in SENSORS:
        state: dict[str, float] = {}
        if sensor.period:
            times, v = [], v0 + rng.uniform(0, sensor.period)
            while v < v1:
                times.append(v)
                v += sensor.period * rng.uniform(0.98, 1.02)
        else:
            times = _events(rng, v0, v1, 1.0 if sensor.kind == "door" else 3.0)
        gap = offline.get(sensor.name)
        if gap:
            s.add(at(gap[0]), sensor.name, "drop")
            s.add(at(gap[1]), sensor.name, "connect")
        for v in times:
            if gap and gap[0] - 1 <= v <= gap[1] + 60:
                continue
            s.add(
                at(v),
                sensor.name,
                "publish",
                topic=sensor.topic,
                payload=payload(sensor, v, rng, state),
                qos=sensor.qos,
                retain=sensor.kind == "door",
            )
    # The wall dashboard changes the thermostat setpoint a few times a day.
    for v in _events(rng, v0, v1, 0.08):
        setpoint = round(rng.choice((19.5, 20.0, 20.5, 21.0, 21.5, 22.0)), 1)
        s.add(
            at(v),
            "dashboard",
            "publish",
            topic=SETPOINT_TOPIC,
            payload=json.dumps({"setpoint": setpoint}).encode(),
            qos=1,
        )


def modbus_day(
    s: Schedule, rng: random.Random, t0: float, t1: float, day_start: float, cycle: float = 120.0
) -> None:
    """The SCADA poller reads every meter and the PLC in a fixed cycle; setpoint writes at set hours."""
    kwh = {u: 1000.0 * u for u in METER_UNITS}
    n = 0
    v = day_start + t0 * COMPRESSION
    v1 = day_start + t1 * COMPRESSION
    while v < v1:
        t = (v - day_start) / COMPRESSION
        h = hour_of(v)
        for i, unit in enumerate(METER_UNITS):
            load = (1 + (2.5 if 8 <= h < 18 else 0.4)) * (4 - i) * 10 * rng.uniform(0.9, 1.1)
            volts = [230 + rng.gauss(0, 1.2) for _ in range(3)]
            amps = [load * 1000 / 3 / 230 * rng.uniform(0.95, 1.05) for _ in range(3)]
            p = sum(a * vv for a, vv in zip(amps, volts, strict=True)) * 0.95 / 1000
            kwh[unit] += p * cycle / 3600
            values = volts + amps + [p, p * 0.33, p / 0.95, 0.95, 50 + rng.gauss(0, 0.01), kwh[unit]]
            s.add(t, "meter-gw", "set_meter", unit=unit, values=[round(x, 3) for x in values])
            s.add(
                t + 0.004 * i,
                "scada",
                "request",
                source=SCADA_ADDR,
                server=GATEWAY_ADDR,
                fc=4,
                unit=unit,
                address=0,
                count=24,
            )
            if n % 5 == 0:
                s.add(
                    t + 0.004 * i + 0.002,
                    "scada",
                    "request",
                    source=SCADA_ADDR,
                    server=GATEWAY_ADDR,
                    fc=3,
                    unit=unit,
                    address=100,
                    count=8,
                )
        s.add(
            t + 0.02,
            "scada",
            "request",
            source=SCADA_ADDR,
            server=PLC_ADDR,
            fc=1,
            unit=1,
            address=0,
            count=16,
        )
        s.add(
            t + 0.024,
            "scada",
            "request",
            source=SCADA_ADDR,
            server=PLC_ADDR,
            fc=3,
            unit=1,
            address=0,
            count=20,
        )
        # Occasional setpoint writes: lights on/off, HVAC setpoint, demand limit.
        prev_h = hour_of(v - cycle)
        for hour, fc, addr, value in (
            (7, 15, 0, [True] * 4),
            (19, 15, 0, [False] * 4),
            (6.5, 6, 3, 210),
            (22, 6, 3, 180),
            (8, 16, 100, [450, 0]),
            (18, 16, 100, [250, 0]),
        ):
            if prev_h < hour <= h:
                server, unit = (PLC_ADDR, 1) if fc != 16 else (GATEWAY_ADDR, 1)
                s.add(
                    t + 0.03,
                    "scada",
                    "request",
                    source=SCADA_ADDR,
                    server=server,
                    fc=fc,
                    unit=unit,
                    address=addr,
                    count=1,
                    values=value,
                )
        if rng.random() < 0.01:  # an operator nudges the HVAC setpoint
            s.add(
                t + 0.035,
                "scada",
                "request",
                source=SCADA_ADDR,
                server=PLC_ADDR,
                fc=6,
                unit=1,
                address=4,
                count=1,
                values=rng.randint(195, 225),
            )
        n += 1
        v += cycle


BACNET_POINTS = (
    ("ahu-1", "analogInput,1"),
    ("ahu-1", "analogInput,2"),
    ("ahu-1", "analogInput,3"),
    ("ahu-1", "analogValue,1"),
    ("ahu-1", "binaryValue,1"),
    ("vav-2", "analogInput,1"),
    ("vav-2", "analogValue,1"),
    ("vav-2", "analogValue,2"),
)
COV_POINTS = (("ahu-1", "analogInput,1"), ("vav-2", "analogInput,1"), ("ahu-1", "analogInput,3"))


def bacnet_day(s: Schedule, rng: random.Random, t0: float, t1: float, day_start: float) -> None:
    """BMS discovery, periodic ReadProperty, COV subscriptions, and the plant's values moving."""
    s.add(t0 + 0.05, "bms", "whois")
    resubscribe = wall(3600)
    t = t0 + 0.3
    while t < t1:
        for i, (dev, obj) in enumerate(COV_POINTS):
            s.add(
                t + 0.01 * i,
                "bms",
                "subscribe",
                device=dev,
                object=obj,
                process=10 + i,
                lifetime=int(resubscribe * 2) + 1,
            )
        t += resubscribe
    v = day_start + t0 * COMPRESSION
    n = 0
    while v < day_start + t1 * COMPRESSION:
        t = (v - day_start) / COMPRESSION
        h = hour_of(v)
        occupied = 7 <= h < 19
        s.add(
            t,
            "ahu-1",
            "set",
            object="analogInput,1",
            value=round((16.0 if occupied else 20.0) + rng.gauss(0, 0.25), 2),
        )
        s.add(
            t,
            "ahu-1",
            "set",
            object="analogInput,2",
            value=round(_daily(v, 20.5, 23.5) + rng.gauss(0, 0.1), 2),
        )
        s.add(t, "ahu-1", "set", object="analogInput,3", value=round(45 + rng.gauss(0, 1.5), 1))
        s.add(t, "ahu-1", "set", object="binaryValue,1", value=1 if occupied else 0)
        s.add(
            t,
            "vav-2",
            "set",
            object="analogInput,1",
            value=round(_daily(v, 20.0, 22.5) + rng.gauss(0, 0.15), 2),
        )
        if n % 5 == 0:  # BMS poll every 5 virtual minutes
            for i, (dev, obj) in enumerate(BACNET_POINTS):
                s.add(t + 0.003 * i, "bms", "read", device=dev, object=obj, property="presentValue")
        if n % 60 == 30:
            s.add(t + 0.03, "bms", "whois")
        if n % 30 == 15:  # the BMS refreshes names now and then
            for dev, _ in (BACNET_POINTS[0], BACNET_POINTS[5]):
                s.add(
                    t + 0.04,
                    "bms",
                    "read",
                    device=dev,
                    object=f"device,{1001 if dev == 'ahu-1' else 1002}",
                    property="objectName",
                )
        n += 1
        v += 60
