"""Record two captures of one small Modbus plant (real pymodbus stacks on loopback) for the site tests.

    .venv/bin/python sample_captures/site_plant.py --out tests/data/site_plant

Plant: a PLC 127.0.9.10 (unit 1 pumps, unit 2 valves) and a meter gateway 127.0.9.11 (units 1-2).
The SCADA master 127.0.9.1 polls every unit four times a second and, on a schedule, writes the pump
setpoint (06 to PLC unit 1) and switches a pump coil (05 to PLC unit 1). An HMI 127.0.9.2 reads the
PLC once a second.

- `day1.pcapng.gz`: the plant as it normally runs (the capture a site is learned from).
- `day2.pcapng.gz`: the same plant; the SCADA master also writes the valve setpoint (06 to PLC unit 2,
  a unit it polls, with a code it already uses: a legitimate change), and half-way through a host
  never seen as a master, 127.0.9.66, writes 16 (write multiple registers) to PLC unit 1 (injected).

Needs dumpcap capture rights on `lo`. Only traffic of 127.0.9.0/24 on TCP 502 is captured.
Writes `<name>.pcapng.gz` and `<name>.labels.json` (what was done when, in capture time).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import shutil
import sys
import time
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorder.capture import Dumpcap  # noqa: E402

PLC, GATEWAY = "127.0.9.10", "127.0.9.11"
SCADA, HMI, INTRUDER = "127.0.9.1", "127.0.9.2", "127.0.9.66"
FILTER = "tcp port 502 and net 127.0.9.0/24"
SECONDS = 150.0
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def device(unit: int) -> SimDevice:
    return SimDevice(
        id=unit,
        simdata=(
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=20, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=20, values=0, datatype=DataType.REGISTERS)],
        ),
    )


async def client(source: str, server: str) -> AsyncModbusTcpClient:
    c = AsyncModbusTcpClient(server, port=502, source_address=(source, 0), timeout=1, retries=0)
    await c.connect()
    return c


async def plant(day2: bool, labels: list[dict], t0: float) -> None:
    servers = [ModbusTcpServer([device(1), device(2)], address=(a, 502)) for a in (PLC, GATEWAY)]
    tasks = [asyncio.create_task(s.serve_forever()) for s in servers]
    await asyncio.sleep(0.3)
    scada_plc, scada_gw = await client(SCADA, PLC), await client(SCADA, GATEWAY)
    hmi = await client(HMI, PLC)
    tick = 0
    start = time.monotonic()
    injected = False
    while (now := time.monotonic() - start) < SECONDS:
        for unit in (1, 2):
            await scada_plc.read_holding_registers(0, count=10, device_id=unit)
            await scada_gw.read_input_registers(0, count=12, device_id=unit)
        if tick % 4 == 0:
            await hmi.read_holding_registers(0, count=4, device_id=1)
        if tick % 40 == 10:  # every 10 s: pump setpoint
            await scada_plc.write_register(1, 500 + tick % 7, device_id=1)
        if tick % 120 == 30:  # every 30 s: pump coil
            await scada_plc.write_coil(0, tick % 240 == 30, device_id=1)
        if day2 and tick % 120 == 60:  # day 2: the valve setpoint too (a legitimate change)
            await scada_plc.write_register(2, 40 + tick % 5, device_id=2)
            labels.append({"time": time.time(), "what": "legitimate: SCADA writes 06 to PLC unit 2"})
        if day2 and not injected and now >= SECONDS / 2:
            injected = True
            bad = await client(INTRUDER, PLC)
            await bad.read_holding_registers(0, count=4, device_id=1)
            await bad.write_registers(0, [9999, 9999, 9999], device_id=1)
            bad.close()
            labels.append({"time": time.time(), "what": "injected: 127.0.9.66 writes 16 to PLC unit 1"})
        tick += 1
        await asyncio.sleep(max(0.0, tick * 0.25 - (time.monotonic() - start)))
    for c in (scada_plc, scada_gw, hmi):
        c.close()
    for s in servers:
        await s.shutdown()
    for t in tasks:
        t.cancel()
    labels.insert(0, {"time": t0, "what": "start"})


def record(name: str, out_dir: Path, day2: bool) -> Path:
    raw = out_dir / f"{name}.pcapng"
    labels: list[dict] = []
    with Dumpcap(raw, FILTER):
        asyncio.run(plant(day2, labels, time.time()))
    gz = raw.with_name(raw.name + ".gz")
    with raw.open("rb") as src, gzip.GzipFile(gz, "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    gz.chmod(0o644)
    (out_dir / f"{name}.labels.json").write_text(
        json.dumps({"capture": gz.name, "events": labels}, indent=2) + "\n"
    )
    return gz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("tests/data/site_plant"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, day2 in (("day1", False), ("day2", True)):
        path = record(name, args.out, day2)
        print(f"{path}: {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
