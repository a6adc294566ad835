"""BACnet/IP actors with bacpypes3 0.0.110: HVAC controllers, the BMS workstation, unknown hosts.

Every application binds its own 127.0.5.x:47808 (a /8 network, so the broadcast address is
127.255.255.255 and all of them hear Who-Is).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bacpypes3.apdu import (
    DeviceCommunicationControlRequest,
    ReadPropertyRequest,
    ReinitializeDeviceRequest,
    SimpleAckPDU,
    SubscribeCOVRequest,
)
from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.ipv4 import IPv4DatagramServer
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.pdu import Address, IPv4Address, LocalBroadcast, LocalStation
from bacpypes3.primitivedata import ObjectIdentifier
from bacpypes3.service.device import DeviceCommunicationControlServices

from .capture import BACNET_PORT

logging.getLogger("bacpypes3").setLevel(logging.CRITICAL)

_original_indication = IPv4DatagramServer.indication


async def _indication_on_wire(self: IPv4DatagramServer, pdu: Any) -> None:
    """Send unicast to other 127.x hosts on the wire.

    bacpypes3 0.0.110 treats *any* 127.x.x.x on its own port as itself and loops the packet
    back internally, so two devices on loopback could never talk; only exact self-addresses
    are short-circuited here.
    """
    dest = pdu.pduDestination
    if isinstance(dest, (LocalStation, IPv4Address)) and not isinstance(dest, LocalBroadcast):
        target = IPv4Address(dest).addrTuple
        if target != self.local_address:
            if self._transport_tasks:
                await asyncio.gather(*self._transport_tasks)
                self._transport_tasks = []
            await self._local_transport_ready.wait()
            self.local_transport.sendto(pdu.pduData, target)
            return
    await _original_indication(self, pdu)


IPv4DatagramServer.indication = _indication_on_wire  # type: ignore[method-assign]


class Controller(Application, DeviceCommunicationControlServices):
    """bacpypes3's application plus DeviceCommunicationControl (a mixin it ships but does not use)
    and a ReinitializeDevice that is acknowledged (a controller that restarts its program)."""

    async def do_DeviceCommunicationControlRequest(self, apdu: DeviceCommunicationControlRequest) -> None:
        # bacpypes3 0.0.110 compares the enumerated value with str ("disable"), which never
        # matches, so a disabled device kept talking; compare its name instead.
        state = str(apdu.enableDisable)
        if state == "enable":
            self.enable_communications()
        else:
            self.disable_communications(state)
            if apdu.timeDuration:
                self._dcc_enable_handle = asyncio.get_event_loop().call_later(
                    apdu.timeDuration * 60, self.enable_communications
                )
        await self.response(SimpleAckPDU(context=apdu))

    async def do_ReinitializeDeviceRequest(self, apdu: ReinitializeDeviceRequest) -> None:
        await self.response(SimpleAckPDU(context=apdu))


class Tool(Controller):
    """A scanning/engineering tool: it sends requests but does not answer Who-Is, so it only
    shows up on the network while it is being used."""

    async def do_WhoIsRequest(self, apdu: Any) -> None:
        return None


def make_app(
    address: str, instance: int, name: str, apdu_timeout_ms: int = 600, tool: bool = False
) -> Application:
    """A bacpypes3 application on ``address`` (/8, port 47808) with a device object."""
    args = SimpleArgumentParser().parse_args(
        ["--name", name, "--instance", str(instance), "--address", f"{address}/8:{BACNET_PORT}"]
    )
    app = (Tool if tool else Controller).from_args(args)
    app.smap = app.asap  # the DCC mixin talks to the access point under this name
    app.device_object.apduTimeout = apdu_timeout_ms
    app.device_object.numberOfApduRetries = 0
    return app


#: HVAC controllers: name, address, device instance, objects (type, instance, name, value, cov increment).
DEVICES: dict[str, tuple[str, int, list[tuple[str, int, str, float, float]]]] = {
    "ahu-1": (
        "127.0.5.1",
        1001,
        [
            ("analogInput", 1, "supply-air-temp", 18.0, 0.2),
            ("analogInput", 2, "return-air-temp", 22.0, 0.2),
            ("analogInput", 3, "return-air-humidity", 45.0, 1.0),
            ("analogValue", 1, "supply-temp-setpoint", 18.0, 0.1),
            ("binaryValue", 1, "supply-fan", 0.0, 0.0),
        ],
    ),
    "vav-2": (
        "127.0.5.2",
        1002,
        [
            ("analogInput", 1, "zone-temp", 21.5, 0.2),
            ("analogValue", 1, "damper-position", 30.0, 5.0),
            ("analogValue", 2, "zone-setpoint", 21.0, 0.1),
        ],
    ),
}


def _make_object(kind: str, inst: int, name: str, value: float, cov: float) -> Any:
    if kind == "binaryValue":
        return BinaryValueObject(
            objectIdentifier=(kind, inst),
            objectName=name,
            presentValue="active" if value else "inactive",
            statusFlags=[0, 0, 0, 0],
        )
    cls = AnalogInputObject if kind == "analogInput" else AnalogValueObject
    return cls(
        objectIdentifier=(kind, inst),
        objectName=name,
        presentValue=value,
        statusFlags=[0, 0, 0, 0],
        covIncrement=cov,
        units="degreesCelsius",
    )


class BacnetWorld:
    """Devices, the BMS workstation and any other BACnet host of a recording."""

    def __init__(self) -> None:
        self.apps: dict[str, Application] = {}
        self.objects: dict[tuple[str, str], Any] = {}
        self.addresses: dict[str, str] = {}

    def add_device(self, name: str, device_name: str | None = None) -> None:
        address, instance, objects = DEVICES[name]
        app = make_app(address, instance, device_name or name.upper())
        for kind, inst, oname, value, cov in objects:
            obj = _make_object(kind, inst, oname, value, cov)
            app.add_object(obj)
            self.objects[(name, f"{kind},{inst}")] = obj
        self.apps[name] = app
        self.addresses[name] = address

    def add_client(
        self, name: str, address: str, instance: int, device_name: str | None = None, tool: bool = False
    ) -> None:
        self.apps[name] = make_app(address, instance, device_name or name, tool=tool)
        self.addresses[name] = address

    async def start(self) -> None:
        await asyncio.sleep(0.3)  # transports bind asynchronously

    def stop(self) -> None:
        for app in self.apps.values():
            app.close()

    async def _confirmed(self, client: str, apdu: Any) -> None:
        try:
            await asyncio.wait_for(self.apps[client].request(apdu), 3)
        except asyncio.CancelledError:
            raise
        except BaseException:  # noqa: BLE001 - bacpypes3 errors/rejects/timeouts are recorded traffic
            pass

    def dispatch(self, actor: str, kind: str, args: dict[str, Any]) -> Any:
        if kind == "set":
            obj = self.objects[(actor, args["object"])]
            value = args["value"]
            obj.presentValue = (
                ("active" if value else "inactive") if args["object"].startswith("binary") else value
            )
            return None
        app = self.apps[actor]
        target = args.get("device")
        dest = Address(self.addresses.get(target, target)) if target else None
        if kind == "whois":
            app.who_is(args.get("low"), args.get("high"), timeout=0.2)
            return None
        if kind == "iam":
            app.i_am()
            return None
        if kind == "read":
            apdu = ReadPropertyRequest(
                objectIdentifier=ObjectIdentifier(args["object"]),
                propertyIdentifier=args["property"],
                destination=dest,
            )
        elif kind == "subscribe":
            apdu = SubscribeCOVRequest(
                subscriberProcessIdentifier=args["process"],
                monitoredObjectIdentifier=ObjectIdentifier(args["object"]),
                issueConfirmedNotifications=False,
                lifetime=args["lifetime"],
                destination=dest,
            )
        elif kind == "dcc":
            apdu = DeviceCommunicationControlRequest(enableDisable=args["state"], destination=dest)
            if args.get("minutes"):
                apdu.timeDuration = args["minutes"]
        elif kind == "reinit":
            apdu = ReinitializeDeviceRequest(reinitializedStateOfDevice=args["state"], destination=dest)
        else:
            raise ValueError(f"unknown BACnet action {kind}")
        return self._confirmed(actor, apdu)
