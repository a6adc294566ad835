"""Poll a smart meter over Modbus/TCP with a register map and fill day windows as samples arrive.

One poll = the map's read requests (neighbouring registers merged), decoded and scaled to measurement
values. Failed polls (timeouts, Modbus exceptions, a lost connection) are counted and skipped, never fatal;
the connection is retried on the next poll. Samples go to a DayAccumulator, which hands back each local day
once it is complete, so live days reach the seq2seq scorer exactly like days cut from a file.

With `clock_address` (the simulator's SIM_CLOCK_ADDRESS), samples carry the meter's own clock (u32 epoch
seconds) instead of the wall clock; the clock is read before and after the values and the poll is retried if
it moved, so values and timestamp always belong to the same row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from spear_tui.meter.days import DEFAULT_MAX_GAP, CompletedDay, DayAccumulator
from spear_tui.meter.registers import Register, RegisterMap, decode_words

_CLOCK = Register("clock", 0, "u32")


@dataclass(frozen=True, slots=True)
class Sample:
    time: dt.datetime  # UTC
    values: dict[str, float]


@dataclass
class PollStats:
    polls: int = 0
    samples: int = 0
    failures: int = 0
    last_error: str = ""
    days: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.failures += 1
        self.last_error = reason
        self.errors[reason] = self.errors.get(reason, 0) + 1


class PollError(Exception):
    """One poll failed (timeout, exception response, connection lost): counted, then the poller goes on."""


class MeterPoller:
    """Modbus/TCP meter -> Samples -> completed days. Use `async with` or call `close()`."""

    def __init__(
        self,
        host: str,
        port: int,
        regmap: RegisterMap,
        *,
        unit_id: int | None = None,
        interval: float = 1.0,
        timeout: float = 2.0,
        clock_address: int | None = None,
        samples_per_day: int = 96,
        tz: str | None = None,
        max_gap: dt.timedelta = DEFAULT_MAX_GAP,
    ) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        self.regmap = regmap
        self.unit_id = regmap.unit_id if unit_id is None else unit_id
        self.interval = interval
        self.clock_address = clock_address
        self.client = AsyncModbusTcpClient(host, port=port, timeout=timeout, retries=0)
        self.accumulator = DayAccumulator(
            regmap.measurements, samples_per_day=samples_per_day, tz=tz, max_gap=max_gap
        )
        self.stats = PollStats()

    async def __aenter__(self) -> MeterPoller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    async def _read(self, address: int, count: int) -> np.ndarray:
        from pymodbus.exceptions import ModbusException

        if not self.client.connected and not await self.client.connect():
            raise PollError("connect failed")
        read = (
            self.client.read_input_registers
            if self.regmap.table == "input"
            else self.client.read_holding_registers
        )
        try:
            response = await read(address, count=count, device_id=self.unit_id)
        except (TimeoutError, ModbusException, OSError) as exc:
            raise PollError(type(exc).__name__) from None
        if response.isError():
            code = getattr(response, "exception_code", None)
            raise PollError(f"exception {code}")
        return np.asarray(response.registers, dtype=np.uint16)

    async def _read_clock(self) -> int:
        assert self.clock_address is not None
        return int(decode_words(await self._read(self.clock_address, 2), _CLOCK)[0])

    async def _read_values(self) -> dict[str, float]:
        words: dict[int, np.ndarray] = {}
        for start, count in self.regmap.blocks():
            regs = await self._read(start, count)
            if len(regs) != count:
                raise PollError("short response")
            words[start] = regs
        out: dict[str, float] = {}
        for reg in self.regmap.registers:
            start = max(s for s in words if s <= reg.address)
            off = reg.address - start
            out[reg.measurement] = float(decode_words(words[start][off : off + reg.words], reg)[0])
        return out

    async def read(self) -> Sample:
        """One poll -> Sample; raises PollError (already counted in `stats`)."""
        self.stats.polls += 1
        try:
            for _ in range(3):
                before = await self._read_clock() if self.clock_address is not None else None
                values = await self._read_values()
                if before is None:
                    return Sample(dt.datetime.now(dt.UTC), values)
                if await self._read_clock() == before:
                    return Sample(dt.datetime.fromtimestamp(before, dt.UTC), values)
            raise PollError("clock moved during every try")
        except PollError as exc:
            self.stats.fail(str(exc))
            raise

    def add(self, sample: Sample) -> list[CompletedDay]:
        """Feed a sample to the day windows; returns days it completed."""
        self.stats.samples += 1
        days = self.accumulator.add(sample.time, sample.values)
        self.stats.days += len(days)
        return days

    async def run(
        self,
        *,
        on_sample: Callable[[Sample], None] | None = None,
        on_day: Callable[[CompletedDay], None] | None = None,
        stop: asyncio.Event | None = None,
        polls: int | None = None,
    ) -> PollStats:
        """Poll every `interval` s (fixed cadence, no drift) until `stop` is set or after `polls` polls."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        done = 0
        while (stop is None or not stop.is_set()) and (polls is None or done < polls):
            try:
                sample = await self.read()
            except PollError:
                sample = None
            done += 1
            if sample is not None:
                if on_sample:
                    on_sample(sample)
                for day in self.add(sample):
                    if on_day:
                        on_day(day)
            next_at += self.interval
            delay = next_at - loop.time()
            if delay < 0:  # fell behind (slow meter): skip the missed slots rather than burst
                next_at = loop.time()
                delay = 0
            if stop is not None:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(delay)
        return self.stats


def poll_in_thread(
    poller_factory: Callable[[], MeterPoller],
    stop: threading.Event,
    *,
    on_sample: Callable[[Sample], None] | None = None,
    on_day: Callable[[CompletedDay], None] | None = None,
) -> threading.Thread:
    """Run a poller on its own event loop in a daemon thread (for the engine's worker threads).

    The poller is built inside the thread (pymodbus clients belong to the loop that made them); set `stop`
    to end it; callbacks run in that thread.
    """

    async def main() -> None:
        poller = poller_factory()
        halt = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.1)
            halt.set()

        watcher = asyncio.create_task(watch())
        try:
            await poller.run(on_sample=on_sample, on_day=on_day, stop=halt)
        finally:
            watcher.cancel()
            poller.close()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="meter-poller", daemon=True)
    thread.start()
    return thread
