"""The tshark fields we extract, and helpers shared by the per-protocol decoders.

One tshark `-T fields` run prints one line per frame with these fields; repeated fields (several MQTT
messages or Modbus PDUs in one TCP segment) are joined with `AGGREGATOR`. tshark escapes tab and newline
inside string values but not other control characters, and it uses only the first character of
`-E aggregator`, so the aggregator is the rarely used ASCII record separator; a hostile value containing
it splits into one occurrence too many, which the per-frame count check catches (the frame then takes
the exact path).
"""

from __future__ import annotations

import polars as pl

AGGREGATOR = "\x1e"

COMMON_FIELDS: dict[str, str] = {
    "frame.number": "frame",
    "frame.time_epoch": "time",
    "ip.src": "ip_src",
    "ip.dst": "ip_dst",
    "ipv6.src": "ip6_src",
    "ipv6.dst": "ip6_dst",
    "tcp.srcport": "tcp_sport",
    "tcp.dstport": "tcp_dport",
    "udp.srcport": "udp_sport",
    "udp.dstport": "udp_dport",
    "_ws.malformed": "malformed",
}

MQTT_FIELDS: dict[str, str] = {
    "mqtt.msgtype": "mqtt_msgtype",
    "mqtt.len": "mqtt_len",
    "mqtt.hdrflags": "mqtt_hdrflags",
    "mqtt.conflags": "mqtt_conflags",
    "mqtt.clientid": "mqtt_clientid",
    "mqtt.topic": "mqtt_topic",
    "mqtt.msgid": "mqtt_msgid",
    "mqtt.sub.qos": "mqtt_subqos",
    "mqtt.subscription_options_qos": "mqtt_subqos5",
}

MODBUS_FIELDS: dict[str, str] = {
    "mbtcp.trans_id": "mb_trans_id",
    "mbtcp.unit_id": "mb_unit_id",
    "mbtcp.len": "mb_len",
    "modbus.func_code": "mb_func",
    "modbus.exception_code": "mb_exc",
    "modbus.reference_num": "mb_ref",
    "modbus.data": "mb_data",
}

BACNET_FIELDS: dict[str, str] = {
    "bvlc.function": "bv_function",
    "udp.length": "udp_length",
    "bacnet.mesgtyp": "bv_nettype",
    "bacapp.type": "bv_apdu",
    "bacapp.confirmed_service": "bv_cservice",
    "bacapp.unconfirmed_service": "bv_uservice",
    "bacapp.invoke_id": "bv_invoke",
    "bacapp.objectType": "bv_objtype",
    "bacapp.instance_number": "bv_instance",
}

ALL_FIELDS: dict[str, str] = {**COMMON_FIELDS, **MQTT_FIELDS, **MODBUS_FIELDS, **BACNET_FIELDS}
COLUMNS: list[str] = list(ALL_FIELDS.values())


def tshark_field_args() -> list[str]:
    """`-T fields -e ...` options with our separators (tab between fields, AGGREGATOR within)."""
    args = [
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        f"aggregator={AGGREGATOR}",
        "-E",
        "quote=n",
        "-E",
        "separator=/t",
        "-E",
        "header=n",
    ]
    for name in ALL_FIELDS:
        args += ["-e", name]
    return args


def split(col: str) -> pl.Expr:
    """The occurrences of a repeated field as a list (null field -> empty list)."""
    return pl.col(col).fill_null("").str.split(AGGREGATOR).list.eval(pl.element()).alias(col)


def occurrences(col: str) -> pl.Expr:
    """How many occurrences a field has in the frame (0 when absent)."""
    return (
        pl.when(pl.col(col).is_null())
        .then(0)
        .otherwise(pl.col(col).str.count_matches(AGGREGATOR, literal=True) + 1)
    )


def first(col: str) -> pl.Expr:
    """First occurrence of a field (tunnels/ICMP quotes repeat addresses; take the outer one)."""
    return pl.col(col).str.split(AGGREGATOR).list.first()


def to_int(expr: pl.Expr) -> pl.Expr:
    """Decimal or 0x-hex text -> Int64, null when empty or unparsable."""
    s = expr.str.strip_chars()
    is_hex = s.str.starts_with("0x")
    return (
        pl.when(is_hex)
        .then(s.str.slice(2).str.to_integer(base=16, strict=False))
        .otherwise(s.str.to_integer(base=10, strict=False))
    )


def common_columns(file_index: int, sport: str, dport: str) -> list[pl.Expr]:
    """frame/file/time/src/dst/sport/dport expressions on the raw frame table."""
    return [
        pl.col("frame").cast(pl.Int64),
        pl.lit(file_index, dtype=pl.Int32).alias("file"),
        pl.col("time").cast(pl.Float64),
        pl.coalesce(first("ip_src"), first("ip6_src")).alias("src"),
        pl.coalesce(first("ip_dst"), first("ip6_dst")).alias("dst"),
        to_int(first(sport)).cast(pl.Int32).alias("sport"),
        to_int(first(dport)).cast(pl.Int32).alias("dport"),
    ]


def malformed_in(names: tuple[str, ...]) -> pl.Expr:
    """True where tshark marked the frame malformed in one of these dissectors ("Malformed Packet: MQTT")."""
    pattern = "|".join(f"Malformed Packet: {n}\\]" for n in names)
    return pl.col("malformed").fill_null("").str.contains(pattern)
