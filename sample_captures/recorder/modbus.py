"""Modbus/TCP actors: pymodbus 3.16 servers as smart meters and a PLC, pymodbus clients as pollers.

Meter gateway 127.0.3.1 (unit ids 1-4, one per meter behind an RS-485 gateway) and a PLC
127.0.3.2 (unit 1); the SCADA poller is 127.0.4.1. The meters' measurements come from the
schedule (``set_meter`` actions), so what is read is deterministic given the seed.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from .capture import MODBUS_PORT

GATEWAY_ADDR = "127.0.3.1"
PLC_ADDR = "127.0.3.2"
METER_UNITS = (1, 2, 3, 4)
#: Input registers 0..23: 12 float32 (V1-3, I1-3, P, Q, S, PF, f, E_kWh); holding 100..107 setpoints.
MEASUREMENT_COUNT = 24
SETPOINT_BASE = 100

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def float_regs(values: list[float]) -> list[int]:
    """Big-endian float32 pairs, as most meters lay them out."""
    out: list[int] = []
    for v in values:
        hi, lo = struct.unpack(">HH", struct.pack(">f", v))
        out += [hi, lo]
    return out


class MeterState:
    """Register values of one meter: each scheduled reading is served to exactly one poll.

    Readings queue up and every input-register read takes the next one, so what the poller
    reads depends on the schedule only, even when a loaded machine makes the recorder late.
    """

    def __init__(self) -> None:
        self.measurements = [0] * MEASUREMENT_COUNT
        self.pending: deque[list[int]] = deque()

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: Any,
    ) -> None:
        if function_code == 4 and set_values is None:
            if self.pending:
                self.measurements = self.pending.popleft()
            for i in range(MEASUREMENT_COUNT):
                registers[i - start_address] = self.measurements[i]


def meter_device(unit: int, state: MeterState) -> SimDevice:
    return SimDevice(
        id=unit,
        simdata=(
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(SETPOINT_BASE, count=8, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=MEASUREMENT_COUNT, values=0, datatype=DataType.REGISTERS)],
        ),
        action=state.action,
    )


def plc_device() -> SimDevice:
    return SimDevice(
        id=1,
        simdata=(
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=20, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=10, values=0, datatype=DataType.REGISTERS)],
        ),
    )


class ModbusWorld:
    """The Modbus servers and every client that talks to them."""

    def __init__(self) -> None:
        self.meters = {unit: MeterState() for unit in METER_UNITS}
        self.servers: list[ModbusTcpServer] = []
        self.clients: dict[tuple[str, str], AsyncModbusTcpClient] = {}
        self._serve: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        gateway = ModbusTcpServer(
            [meter_device(u, s) for u, s in self.meters.items()], address=(GATEWAY_ADDR, MODBUS_PORT)
        )
        plc = ModbusTcpServer([plc_device()], address=(PLC_ADDR, MODBUS_PORT))
        self.servers = [gateway, plc]
        for server in self.servers:
            self._serve.append(asyncio.create_task(server.serve_forever()))
        await asyncio.sleep(0.3)

    async def client(self, source: str, server: str) -> AsyncModbusTcpClient:
        key = (source, server)
        client = self.clients.get(key)
        if client is None or not client.connected:
            client = AsyncModbusTcpClient(
                server, port=MODBUS_PORT, source_address=(source, 0), timeout=1, retries=0, reconnect_delay=0
            )
            await client.connect()
            self.clients[key] = client
        return client

    async def close_client(self, source: str, server: str) -> None:
        client = self.clients.pop((source, server), None)
        if client is not None:
            client.close()

    async def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        for server in self.servers:
            await server.shutdown()
        for task in self._serve:
            task.cancel()

    async def request(
        self, source: str, server: str, fc: int, unit: int, address: int, count: int = 1, values: Any = None
    ) -> None:
        """One request/response; exceptions and timeouts are part of the traffic, not errors."""
        try:
            client = await self.client(source, server)
            if fc == 1:
                await client.read_coils(address, count=count, device_id=unit)
            elif fc == 3:
                await client.read_holding_registers(address, count=count, device_id=unit)
            elif fc == 4:
                await client.read_input_registers(address, count=count, device_id=unit)
            elif fc == 5:
                await client.write_coil(address, bool(values), device_id=unit)
            elif fc == 6:
                await client.write_register(address, int(values), device_id=unit)
            elif fc == 15:
                await client.write_coils(address, list(values), device_id=unit)
            elif fc == 16:
                await client.write_registers(address, list(values), device_id=unit)
            else:
                raise ValueError(f"unsupported function code {fc}")
        except Exception as exc:  # noqa: BLE001 - timeouts/exceptions are expected traffic
            if isinstance(exc, ValueError):
                raise

    def dispatch(self, kind: str, args: dict[str, Any]) -> Any:
        if kind == "set_meter":
            self.meters[args["unit"]].pending.append(float_regs(args["values"]))
            return None
        if kind == "request":
            return self.request(**args)
        if kind == "close":
            return self.close_client(args["source"], args["server"])
        raise ValueError(f"unknown Modbus action {kind}")
