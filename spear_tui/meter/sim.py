"""A Modbus/TCP smart meter that replays a meter file at accelerated time (pymodbus 3.16 SimDevice API).

The file's rows are encoded once (vectorised) with a register map. Every read request runs the device's
`action` hook, which works out which row is "now" on the simulated clock and copies that row's registers
into the device memory, so a poller always sees one consistent row. Where the file has a gap (an outage),
requests get a Modbus exception (gateway target failed to respond), as from a meter behind a gateway that
stopped answering. The simulated time of the row being served is exposed as a u32 (epoch seconds) at
SIM_CLOCK_ADDRESS, which a poller can read to timestamp samples with file time instead of wall time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import numpy as np

from spear_tui.errors import UserError
from spear_tui.meter.files import MeterSeries
from spear_tui.meter.registers import RegisterMap

SIM_CLOCK_ADDRESS = 0xFF00  # u32, high word first: epoch seconds of the row being served (simulator only)


class MeterSimulator:
    """Serves `series` through `regmap` at `speed` x real time, starting at `start` (default: first row)."""

    def __init__(
        self,
        series: MeterSeries,
        regmap: RegisterMap,
        *,
        speed: float = 900.0,
        start: dt.datetime | None = None,
        unit_id: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise UserError(f"speed must be positive, got {speed}")
        first, count = regmap.span()
        if first + count > SIM_CLOCK_ADDRESS:
            raise UserError(
                f"register map {regmap.name!r} reaches the simulator clock at {SIM_CLOCK_ADDRESS}"
            )
        self.series = series
        self.regmap = regmap
        self.speed = float(speed)
        self.unit_id = regmap.unit_id if unit_id is None else unit_id
        self._clock = clock
        frame = series.frame
        self.times = frame["time"].dt.epoch("s").to_numpy().astype(np.int64)
        diffs = np.diff(self.times)
        self.step = int(np.median(diffs)) if len(diffs) else 900
        values = frame.select(series.measurements).to_numpy().astype(np.float64)
        self.rows = regmap.encode(values, series.measurements)  # (n_rows, words) uint16
        self._first, self._count = first, count
        self.start = int(start.timestamp()) if start is not None else int(self.times[0])
        if self.start > self.times[-1]:
            raise UserError(f"--start is after the end of the file ({_iso(self.times[-1])})")
        self._wall0: float | None = None
        self._served: int | None = None
        self.requests = 0
        self.refused = 0
        self.missing = [m for m in regmap.measurements if m not in series.measurements]

    def sim_time(self) -> float:
        """Seconds since the epoch on the simulated clock."""
        if self._wall0 is None:
            self._wall0 = self._clock()
        return self.start + (self._clock() - self._wall0) * self.speed

    def row_at(self, t: float) -> int | None:
        """Row being served at simulated time t; None inside a gap of the file (outage)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        i = max(i, 0)
        if i < len(self.times) - 1 and t - self.times[i] >= 1.5 * self.step:
            return None
        return i

    @property
    def finished(self) -> bool:
        return self.sim_time() >= self.times[-1] + self.step

    def device(self):  # -> pymodbus.simulator.SimDevice
        from pymodbus.simulator import DataType, SimData, SimDevice

        return SimDevice(
            id=self.unit_id,
            simdata=[
                SimData(self._first, values=[0] * self._count, datatype=DataType.REGISTERS, readonly=True),
                SimData(SIM_CLOCK_ADDRESS, values=[0, 0], datatype=DataType.REGISTERS, readonly=True),
            ],
            action=self._action,
        )

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ):
        from pymodbus.constants import ExcCodes

        self.requests += 1
        row = self.row_at(self.sim_time())
        if row is None:
            self.refused += 1
            return ExcCodes.GATEWAY_NO_RESPONSE
        if row != self._served:
            off = self._first - start_address
            registers[off : off + self._count] = self.rows[row].tolist()
            stamp = int(self.times[row])
            clock = SIM_CLOCK_ADDRESS - start_address
            registers[clock : clock + 2] = [(stamp >> 16) & 0xFFFF, stamp & 0xFFFF]
            self._served = row
        return None

    async def start_server(self, host: str = "127.0.0.1", port: int = 5020):
        """Listen (port 0: a free one); returns (server, actual port). Stop with `server.shutdown()`."""
        from pymodbus.server import ModbusTcpServer

        server = ModbusTcpServer(self.device(), address=(host, port))
        try:
            await server.serve_forever(background=True)
        except (RuntimeError, OSError):
            raise UserError(
                f"cannot listen on {host}:{port} (in use, or not an address of this host?)"
            ) from None
        sockets = getattr(server.transport, "sockets", None) or []
        actual = sockets[0].getsockname()[1] if sockets else port
        self.sim_time()  # the simulated clock starts when the server does
        return server, actual


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).isoformat()


async def serve(sim: MeterSimulator, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Run until cancelled (Ctrl-C), announcing the address and when the file's end is reached."""
    server, actual = await sim.start_server(host, port)
    rate = sim.step / sim.speed
    announce(
        f"meter-sim: serving {sim.series.source} ({len(sim.times):,} rows, {_iso(sim.times[0])} .. "
        f"{_iso(sim.times[-1])}) as {sim.regmap.name!r} {sim.regmap.table} registers, unit {sim.unit_id}, "
        f"on {host}:{actual}; {sim.speed:g}x (one {sim.step // 60}-minute sample every {rate:.3g} s); "
        f"clock u32 at {SIM_CLOCK_ADDRESS}. Ctrl-C stops."
    )
    if sim.missing:
        announce(f"meter-sim: not in the file, served as NaN/0: {', '.join(sim.missing)}")
    try:
        while not sim.finished:
            await asyncio.sleep(min(1.0, max(rate, 0.05)))
        announce(f"meter-sim: end of file reached; holding the last row ({_iso(sim.times[-1])})")
        await asyncio.Event().wait()
    finally:
        await server.shutdown()
