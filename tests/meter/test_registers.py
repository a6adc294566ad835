"""Register maps: encodings checked against pymodbus' own converters and known IEEE 754 words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymodbus.client import ModbusTcpClient

from spear_tui.errors import UserError
from spear_tui.meter.registers import Register, builtin_maps, decode_words, encode_words, load_map

PYMODBUS_TYPES = {
    "u16": ModbusTcpClient.DATATYPE.UINT16,
    "i16": ModbusTcpClient.DATATYPE.INT16,
    "u32": ModbusTcpClient.DATATYPE.UINT32,
    "i32": ModbusTcpClient.DATATYPE.INT32,
    "f32": ModbusTcpClient.DATATYPE.FLOAT32,
    "i64": ModbusTcpClient.DATATYPE.INT64,
    "f64": ModbusTcpClient.DATATYPE.FLOAT64,
}
SAMPLES = {
    "u16": 54321,
    "i16": -1234,
    "u32": 3_000_000_000,
    "i32": -2_000_000_000,
    "f32": 231.25,
    "i64": -(2**40) - 7,
    "f64": 49.987654321,
}


@pytest.mark.parametrize("kind", sorted(PYMODBUS_TYPES))
@pytest.mark.parametrize("order", ["big", "little"])
def test_encoding_matches_pymodbus(kind: str, order: str) -> None:
    reg = Register("x", 0, kind, 1.0, None, order)
    value = SAMPLES[kind]
    ours = encode_words(np.array([value], dtype=np.float64), reg)[0].tolist()
    theirs = ModbusTcpClient.convert_to_registers(value, PYMODBUS_TYPES[kind], word_order=order)
    assert ours == theirs
    assert decode_words(np.array(theirs), reg)[0] == pytest.approx(value, rel=1e-7)


def test_known_words_of_an_sdm630_reading() -> None:
    # IEEE 754: 230.0 = 0x43660000; SDM meters send the high word first. 1234 W with scale 0.001 -> 1.234 kW.
    volts = Register("voltage_l1", 0, "f32")
    assert encode_words(np.array([230.0]), volts).tolist() == [[0x4366, 0x0000]]
    watts = Register("active_power", 0x34, "f32", 0.001, "kW")
    assert decode_words(np.array([0x449A, 0x4000]), watts)[0] == pytest.approx(1.234)  # 1234.0 W


def test_scaled_integers_round_and_clip() -> None:
    reg = Register("voltage_l1", 0, "u16", 0.1, "V")
    words = encode_words(np.array([230.06, -5.0, 1e9, np.nan]), reg)
    assert words[:, 0].tolist() == [2301, 0, 65535, 0]
    assert decode_words(words[:1], reg)[0] == pytest.approx(230.1)


def test_builtin_maps_load() -> None:
    assert {"generic", "sdm630"} <= set(builtin_maps())
    sdm = load_map("sdm630")
    assert sdm.table == "input" and sdm.unit_id == 1
    by_name = {r.measurement: r for r in sdm.registers}
    # Eastron's table: 30001 V L1 -> 0x0000, 30053 total W -> 0x0034, 30057 VA -> 0x0038, 30061 VAr -> 0x003C
    assert (by_name["voltage_l1"].address, by_name["active_power"].address) == (0, 0x34)
    assert (by_name["apparent_power"].address, by_name["reactive_power"].address) == (0x38, 0x3C)
    assert sdm.blocks() == [(0, 18), (0x34, 20)]
    generic = load_map("generic")
    assert generic.table == "holding" and generic.blocks() == [(0, 13)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[meter]\ntable='coils'\n[[register]]\nmeasurement='p'\naddress=0\n", "table must be"),
        ("[meter]\n", "no \\[\\[register\\]\\]"),
        ("[[register]]\nmeasurement='p'\naddress=70000\n", "address must be"),
        ("[[register]]\nmeasurement='p'\naddress=0\ntype='f16'\n", "type must be"),
        ("[[register]]\nmeasurement='p'\naddress=0\nscale=0\n", "scale"),
        ("[[register]]\nmeasurement='p'\naddress=0\n[[register]]\nmeasurement='q'\naddress=1\n", "overlap"),
        ("[[register]]\nmeasurement='p'\naddress=0\n[[register]]\nmeasurement='p'\naddress=4\n", "twice"),
        ("[[register]]\nmeasurement='p'\naddress=0\nadress=3\n", "unknown key"),
        ("this is not toml ===", "not valid TOML"),
    ],
)
def test_bad_maps_are_user_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_map(path)


def test_unknown_map_name() -> None:
    with pytest.raises(UserError, match="no register map 'nope'"):
        load_map("nope")
