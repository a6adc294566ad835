"""The tshark fields we extract and the `-T fields` options that print them (no polars here: the scan's
pre-started tshark needs them before polars is imported; `fields.py` has the decoders' helpers).

One tshark `-T fields` run prints one line per frame with these fields; repeated fields (several MQTT
messages or Modbus PDUs in one TCP segment) are joined with `AGGREGATOR`. tshark escapes tab and newline
inside string values but not other control characters, and it uses only the first character of
`-E aggregator`, so the aggregator is the rarely used ASCII record separator; a hostile value containing
it splits into one occurrence too many, which the per-frame count check catches (the frame then takes
the exact path).
"""

from __future__ import annotations

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
