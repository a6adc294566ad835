"""Incidents, as actions added to a normal schedule; each returns its label (start/end are mark names).

Unknown hosts live in 127.66.0.0/24, so novelty rules and talker lists can tell them apart.
"""

from __future__ import annotations

import random
from typing import Any

from .day import BMS, SENSORS
from .modbus import GATEWAY_ADDR, METER_UNITS, PLC_ADDR
from .schedule import Schedule
from .world import Cast

Label = dict[str, Any]
SCADA_ADDR = "127.0.4.1"


def _label(
    s: Schedule, kind: str, protocol: str, t0: float, t1: float, description: str, actors: list[str]
) -> Label:
    s.mark(t0, f"{protocol}-{kind}-start")
    s.mark(t1, f"{protocol}-{kind}-end")
    return {
        "kind": kind,
        "protocol": protocol,
        "start": f"{protocol}-{kind}-start",
        "end": f"{protocol}-{kind}-end",
        "description": description,
        "actors": actors,
    }


def shuffle(s: Schedule, rng: random.Random, start: float, count: int, fraction: float, kind: str) -> Label:
    """Keep the time slots of ``count`` publishes from ``start`` but perform them in shuffled order.

    ``fraction`` 1.0 permutes the whole window; 0.1 picks 10% of the positions and rotates their
    contents, so each picked position gets another publish and every other one is untouched.
    """
    window = [a for a in s.sorted() if a.kind == "publish" and a.t >= start][:count]
    contents = [(a.actor, a.args) for a in window]
    n = len(window)
    if fraction >= 1.0:
        order = list(range(n))
        while order == list(range(n)):
            order = rng.sample(range(n), n)
    else:
        picked = rng.sample(range(n), max(2, round(n * fraction)))
        order = list(range(n))
        for j, pos in enumerate(picked):
            order[pos] = picked[(j + 1) % len(picked)]
    for slot, src in zip(window, order, strict=True):
        slot.actor, slot.args = contents[src]
    moved = sum(1 for i, j in enumerate(order) if i != j)
    ids = {x.name: x.client_id for x in SENSORS} | {"dashboard": "dashboard-wall"}
    actors = sorted({ids[window[i].actor] for i, j in enumerate(order) if i != j})
    return _label(
        s,
        kind,
        "mqtt",
        window[0].t - 0.004,
        window[-1].t + 0.004,
        f"{n} scheduled sensor publishes performed by the real clients in shuffled order "
        f"({moved} of {n} positions moved); sizes, QoS and timing slots are those of a normal day",
        actors,
    )


def connect_flood(
    s: Schedule, cast: Cast, rng: random.Random, start: float, seconds: float, clients: int
) -> Label:
    """Many never-seen client ids from two unknown hosts connect, publish twice and leave."""
    hosts = ("127.66.0.5", "127.66.0.6")
    ids = []
    step = seconds / clients
    for i in range(clients):
        prefix = rng.choice(("bot-", "mqttjs_", "esp8266-", "paho", "x"))
        client_id = f"{prefix}{rng.getrandbits(32):08x}"
        ids.append(client_id)
        name = f"flood-{i:03d}"
        cast.mqtt_extra.append((name, client_id, hosts[i % 2], {"keepalive": 60}))
        t = start + i * step
        s.add(t, name, "connect")
        for k in range(2):
            topic = rng.choice(("home/living/temperature", "home/hall/door", f"bots/{client_id}/hello"))
            s.add(
                t + 0.012 + 0.01 * k,
                name,
                "publish",
                topic=topic,
                payload=rng.randbytes(rng.randint(8, 200)),
                qos=rng.choice((0, 0, 1)),
            )
        s.add(t + 0.045, name, "disconnect")
    return _label(
        s,
        "connect_flood",
        "mqtt",
        start - 0.005,
        start + seconds + 0.3,
        f"{clients} CONNECTs from unknown client ids on {', '.join(hosts)} within {seconds:g} s, "
        "each publishing twice (random payloads) and disconnecting",
        [*hosts, *ids],
    )


def wildcard_subscribe(s: Schedule, cast: Cast, rng: random.Random, start: float, seconds: float) -> Label:
    """An unknown client subscribes to ``#`` (and ``$SYS/#``) and listens to everything."""
    host, client_id = "127.66.0.7", f"mqtt-explorer-{rng.getrandbits(24):06x}"
    cast.mqtt_extra.append(("snoop", client_id, host, {"keepalive": 60}))
    s.add(start, "snoop", "connect")
    s.add(start + 0.02, "snoop", "subscribe", topic="#", qos=0)
    s.add(start + 0.03, "snoop", "subscribe", topic="$SYS/#", qos=0)
    s.add(start + seconds, "snoop", "disconnect")
    return _label(
        s,
        "wildcard_subscribe",
        "mqtt",
        start - 0.005,
        start + seconds + 0.3,
        f"unknown client {client_id} on {host} subscribes to '#' and '$SYS/#' and receives every "
        f"message for {seconds:g} s",
        [host, client_id],
    )


def unit_id_scan(s: Schedule, start: float) -> Label:
    """An unknown host asks unit ids 1..247 on the meter gateway and 1..32 on the PLC."""
    host = "127.66.0.10"
    t = start
    for unit in range(1, 248):
        # holding registers, so the scan never takes a reading queued for the poller
        s.add(t, "scan", "request", source=host, server=GATEWAY_ADDR, fc=3, unit=unit, address=100, count=2)
        t += 0.012
    for unit in range(1, 33):
        s.add(t, "scan", "request", source=host, server=PLC_ADDR, fc=3, unit=unit, address=0, count=1)
        t += 0.012
    s.add(t + 0.05, "scan", "close", source=host, server=GATEWAY_ADDR)
    s.add(t + 0.05, "scan", "close", source=host, server=PLC_ADDR)
    return _label(
        s,
        "unit_id_scan",
        "modbus",
        start - 0.005,
        t + 0.3,
        f"{host} reads unit ids 1-247 on the meter gateway {GATEWAY_ADDR} (units {METER_UNITS} answer, "
        f"the rest give exceptions) and 1-32 on the PLC {PLC_ADDR}",
        [host],
    )


def unexpected_write(s: Schedule, rng: random.Random, start: float) -> Label:
    """A host that never wrote before switches coils and changes setpoints on the PLC and a meter."""
    host = "127.66.0.11"
    t = start
    writes: list[tuple[str, int, int, int, Any]] = [(PLC_ADDR, 1, 5, c, True) for c in range(8)]
    writes += [
        (PLC_ADDR, 1, 6, 3, 350),
        (PLC_ADDR, 1, 6, 4, 0),
        (PLC_ADDR, 1, 15, 8, [True] * 8),
        (GATEWAY_ADDR, 1, 16, 100, [0, 0]),
        (GATEWAY_ADDR, 2, 16, 100, [0, 0]),
        (PLC_ADDR, 1, 16, 10, [rng.randint(0, 65535) for _ in range(4)]),
    ]
    for server, unit, fc, addr, values in writes:
        s.add(
            t,
            "intruder",
            "request",
            source=host,
            server=server,
            fc=fc,
            unit=unit,
            address=addr,
            count=1,
            values=values,
        )
        t += 0.15
    s.add(t + 0.05, "intruder", "close", source=host, server=GATEWAY_ADDR)
    s.add(t + 0.05, "intruder", "close", source=host, server=PLC_ADDR)
    return _label(
        s,
        "unexpected_write",
        "modbus",
        start - 0.005,
        t + 0.3,
        f"{host} (never seen before) writes coils 0-15 and holding registers 3, 4, 10-13 on the PLC "
        f"and the demand limit of meters 1-2: {len(writes)} write requests",
        [host],
    )


def exception_storm(s: Schedule, rng: random.Random, start: float, seconds: float, requests: int) -> Label:
    """The SCADA poller, misconfigured, hammers registers that do not exist: exception after exception."""
    step = seconds / requests
    for i in range(requests):
        if i % 3 == 2:
            server, unit, fc, addr = PLC_ADDR, 1, rng.choice((1, 3)), rng.randint(40, 400)
        else:
            server, unit, fc, addr = (
                GATEWAY_ADDR,
                rng.choice(METER_UNITS),
                rng.choice((3, 4)),
                rng.randint(24, 99),
            )
        s.add(
            start + i * step,
            "scada",
            "request",
            source=SCADA_ADDR,
            server=server,
            fc=fc,
            unit=unit,
            address=addr,
            count=2,
        )
    return _label(
        s,
        "exception_storm",
        "modbus",
        start - 0.005,
        start + seconds + 0.3,
        f"the SCADA poller {SCADA_ADDR} sends {requests} requests for non-existent registers/coils "
        f"in {seconds:g} s; every one is answered with an exception (illegal data address)",
        [SCADA_ADDR],
    )


def whois_storm(s: Schedule, cast: Cast, start: float, seconds: float, count: int) -> Label:
    """An unknown host floods the network with Who-Is (global and ranged); the devices answer each."""
    host, instance = "127.66.0.20", 4194000
    cast.bacnet_extra.append(("whois-storm", host, instance, "scanner", True))
    step = seconds / count
    for i in range(count):
        if i % 2:
            low = (i * 97) % 4000
            s.add(start + i * step, "whois-storm", "whois", low=low, high=low + 1500)
        else:
            s.add(start + i * step, "whois-storm", "whois")
    return _label(
        s,
        "whois_storm",
        "bacnet",
        start - 0.005,
        start + seconds + 0.3,
        f"unknown host {host} broadcasts {count} Who-Is in {seconds:g} s (half of them ranged); "
        "the controllers answer with I-Am",
        [host],
    )


def dcc_reinit(s: Schedule, cast: Cast, start: float) -> Label:
    """An unknown host silences a controller (DCC disable), asks reinitialisation, then re-enables it."""
    host, instance = "127.66.0.21", 4194001
    cast.bacnet_extra.append(("dcc-intruder", host, instance, "tool", True))
    s.add(start, "dcc-intruder", "dcc", device="ahu-1", state="disable")
    s.add(start + 1.5, "dcc-intruder", "reinit", device="ahu-1", state="warmstart")
    s.add(start + 2.0, "dcc-intruder", "reinit", device="vav-2", state="coldstart")
    s.add(start + 2.5, "dcc-intruder", "dcc", device="vav-2", state="disableInitiation")
    s.add(start + 4.0, "dcc-intruder", "dcc", device="ahu-1", state="enable")
    s.add(start + 4.2, "dcc-intruder", "dcc", device="vav-2", state="enable")
    return _label(
        s,
        "dcc_reinit",
        "bacnet",
        start - 0.005,
        start + 4.2 + 1.0,
        f"unknown host {host} sends DeviceCommunicationControl disable to AHU-1 (the BMS reads to it "
        "go unanswered), ReinitializeDevice warm/cold start to AHU-1 and VAV-2, then re-enables both",
        [host],
    )


#: Strings a terminal or Rich would interpret if rendered raw.
HOSTILE = (
    "\x1b[31mRED\x1b[0m-sensor",
    "\x1b]0;pwned-title\x07",
    "\x1b]8;;http://evil.example/\x1b\\click-me\x1b]8;;\x1b\\",
    "[bold red]x[/]",
    "[link=http://x]y[/link]",
    "\u202etxt.exe",
    "\x1b[2J\x1b[Hcleared",
    "[/]unbalanced",
    "bell\x07\x07\x08\x08",
    "[blink]\x1b[5m\u202e[/blink]",
)


def hostile(s: Schedule, cast: Cast, start: float) -> list[Label]:
    """Each hostile string as a client id, as a topic and as a payload, then as a BACnet device name."""
    ids: list[str] = []
    t = start
    for i, text in enumerate(HOSTILE):
        host = f"127.66.0.{30 + i}"
        plain = f"hostile-{i:02d}"
        cast.mqtt_extra.append((f"h-id-{i}", text, host, {"keepalive": 30}))
        cast.mqtt_extra.append((f"h-topic-{i}", plain, host, {"keepalive": 30}))
        ids += [text, plain]
        s.add(t, f"h-id-{i}", "connect")
        s.add(t + 0.05, f"h-id-{i}", "publish", topic="home/living/temperature", payload=text.encode(), qos=0)
        s.add(t + 0.1, f"h-id-{i}", "disconnect")
        s.add(t + 0.15, f"h-topic-{i}", "connect")
        s.add(t + 0.2, f"h-topic-{i}", "publish", topic=f"home/{text}/state", payload=text.encode(), qos=1)
        s.add(t + 0.25, f"h-topic-{i}", "subscribe", topic=f"{text}/#", qos=0)
        s.add(t + 0.3, f"h-topic-{i}", "disconnect")
        t += 0.4
    mqtt_end = t + 0.3
    labels = [
        _label(
            s,
            "hostile_strings",
            "mqtt",
            start - 0.005,
            mqtt_end,
            "client ids, topics, topic filters and payloads carrying ANSI/OSC escapes, Rich markup and "
            "U+202E; the broker may refuse some (invalid UTF-8 control characters) but all are on the wire",
            [f"127.66.0.{30 + i}" for i in range(len(HOSTILE))] + ids,
        )
    ]
    # BACnet: a device whose name is hostile; the BMS discovers it and reads its name.
    name = "[bold red]AHU[/]\x1b[2J\x1b]0;owned\x07\u202eemanlaer"
    host, instance = "127.66.0.40", 666
    cast.bacnet_extra.append(("h-device", host, instance, name, True))
    b0 = mqtt_end + 0.5
    s.add(b0, BMS[0], "whois", low=600, high=700)
    s.add(b0 + 0.1, "h-device", "iam")  # announces itself (it does not answer Who-Is: present only here)
    for k in range(3):
        s.add(
            b0 + 0.3 + 0.2 * k,
            BMS[0],
            "read",
            device=host,
            object=f"device,{instance}",
            property="objectName",
        )
    labels.append(
        _label(
            s,
            "hostile_strings",
            "bacnet",
            b0 - 0.005,
            b0 + 1.2,
            f"BACnet device {instance} on {host} named with Rich markup, ANSI/OSC escapes and U+202E; "
            "it announces itself with I-Am and the BMS reads its objectName",
            [host, name],
        )
    )
    return labels
