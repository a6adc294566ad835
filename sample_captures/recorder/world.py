"""One recording: start the real stacks, capture, perform a schedule, stop everything."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .capture import Dumpcap
from .day import BMS, DASHBOARD, SENSORS, SETPOINT_TOPIC
from .schedule import Action, perform


@dataclass
class Cast:
    """Who takes part in a recording besides the normal actors of its protocols."""

    protocols: tuple[str, ...]
    mqtt_extra: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)  # name, id, addr, kw
    #: name, address, device instance, device name, tool (does not answer Who-Is)
    bacnet_extra: list[tuple[str, str, int, str, bool]] = field(default_factory=list)


async def _record(actions: list[Action], cast: Cast) -> dict[str, float]:
    from .mqtt import MqttWorld

    loop = asyncio.get_running_loop()
    mqtt_world = modbus_world = bacnet_world = None
    routes: dict[str, Any] = {}
    if "mqtt" in cast.protocols:
        mqtt_world = MqttWorld(loop)
        for sensor in SENSORS:
            subs = ((SETPOINT_TOPIC, 1),) if sensor.kind == "thermo" else ()
            # quiet, battery-powered sensors use a longer keepalive than mains-powered ones
            mqtt_world.add(
                sensor.name,
                sensor.client_id,
                sensor.address,
                keepalive=3 if sensor.period == 0 else 5,
                subscriptions=subs,
            )
        name, client_id, addr = DASHBOARD
        mqtt_world.add(name, client_id, addr, keepalive=2, subscriptions=(("home/#", 1), ("office/#", 1)))
        for name, client_id, addr, kw in cast.mqtt_extra:
            mqtt_world.add(name, client_id, addr, **kw)
        mqtt_world.start()
        for name in [s.name for s in SENSORS] + [DASHBOARD[0]]:
            mqtt_world.actors[name].connect()
        for name in mqtt_world.actors:
            routes[name] = mqtt_world
    if "modbus" in cast.protocols:
        from .modbus import ModbusWorld

        modbus_world = ModbusWorld()
        await modbus_world.start()
    if "bacnet" in cast.protocols:
        from .bacnet import BacnetWorld

        bacnet_world = BacnetWorld()
        for dev in ("ahu-1", "vav-2"):
            bacnet_world.add_device(dev)
        bacnet_world.add_client(*BMS)
        for name, addr, inst, dev_name, tool in cast.bacnet_extra:
            bacnet_world.add_client(name, addr, inst, dev_name, tool=tool)
        await bacnet_world.start()
        for name in bacnet_world.apps:
            routes[name] = bacnet_world
    await asyncio.sleep(0.5)

    def dispatch(action: Action) -> Any:
        world = routes.get(action.actor)
        if world is None:
            if modbus_world is None:
                raise ValueError(f"no actor {action.actor}")
            return modbus_world.dispatch(action.kind, action.args)
        if world is mqtt_world:
            return world.dispatch(action.actor, action.kind, action.args)
        return world.dispatch(action.actor, action.kind, action.args)

    marks = await perform(actions, dispatch)
    await asyncio.sleep(0.5)
    if mqtt_world:
        await mqtt_world.stop()
    if modbus_world:
        await modbus_world.stop()
    if bacnet_world:
        bacnet_world.stop()
    await asyncio.sleep(0.2)
    return marks


def record(out: Path, actions: list[Action], cast: Cast) -> dict[str, float]:
    """Capture ``out`` while the cast performs ``actions``; returns the marks' epoch times."""
    from .mqtt import Broker

    with Dumpcap(out):
        if "mqtt" in cast.protocols:
            with Broker():
                return asyncio.run(_record(actions, cast))
        return asyncio.run(_record(actions, cast))
