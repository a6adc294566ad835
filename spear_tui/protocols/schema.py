"""Column contract of the per-protocol message tables.

Every stage after the decoder (features, detectors, novelty rules, console tables, reports) reads
these names, so they are defined once here. One row is one protocol message: one MQTT control
packet, one Modbus PDU (request or response), one BACnet/IP BVLC message.
"""

from __future__ import annotations

import polars as pl

PROTOCOLS: tuple[str, ...] = ("mqtt", "modbus", "bacnet")

# Columns every protocol table has, in this order.
COMMON: dict[str, pl.DataType] = {
    "frame": pl.Int64(),  # tshark frame.number within its capture file
    "file": pl.Int32(),  # index of the capture file in the source list (provenance)
    "time": pl.Float64(),  # epoch seconds (frame.time_epoch)
    "src": pl.Utf8(),  # ip.src / ipv6.src
    "dst": pl.Utf8(),
    "sport": pl.Int32(),  # tcp.srcport / udp.srcport
    "dport": pl.Int32(),
    "msgtype": pl.Int32(),  # protocol message type used as the LSTM's first feature
    "length": pl.Int32(),  # protocol message length used as the LSTM's second feature
}

MQTT: dict[str, pl.DataType] = {
    "hdrflags": pl.Int32(),  # mqtt.hdrflags
    "conflags": pl.Int32(),  # mqtt.conflags (CONNECT only)
    "clientid": pl.Utf8(),  # mqtt.clientid (CONNECT only); hostile text
    "topic": pl.Utf8(),  # mqtt.topic (PUBLISH/SUBSCRIBE); hostile text
    "qos": pl.Int32(),  # mqtt.qos (PUBLISH) or requested QoS (SUBSCRIBE)
    "msgid": pl.Int32(),  # mqtt.msgid
}

MODBUS: dict[str, pl.DataType] = {
    "trans_id": pl.Int32(),  # mbtcp.trans_id
    "unit_id": pl.Int32(),  # mbtcp.unit_id
    "func_code": pl.Int32(),  # modbus.func_code (exception responses keep the code | 0x80 off)
    "exception_code": pl.Int32(),  # modbus.exception_code, null when not an exception
    "reference": pl.Int32(),  # modbus.reference_num / register address
    "data": pl.Utf8(),  # modbus.data (hex)
    "is_response": pl.Boolean(),  # sent from the server port
}

BACNET: dict[str, pl.DataType] = {
    "bvlc_function": pl.Int32(),  # bvlc.function
    "apdu_type": pl.Int32(),  # bacapp.type (null for NPDU-only messages)
    "confirmed_service": pl.Int32(),  # bacapp.confirmed_service
    "unconfirmed_service": pl.Int32(),  # bacapp.unconfirmed_service
    "invoke_id": pl.Int32(),  # bacapp.invoke_id
    "object_type": pl.Int32(),  # bacapp.objectType
    "object_instance": pl.Int32(),  # bacapp.instance_number
}

EXTRA: dict[str, dict[str, pl.DataType]] = {"mqtt": MQTT, "modbus": MODBUS, "bacnet": BACNET}


def schema(protocol: str) -> dict[str, pl.DataType]:
    """Full column schema (common + protocol-specific) of one protocol's message table."""
    return {**COMMON, **EXTRA[protocol]}


def empty(protocol: str) -> pl.DataFrame:
    return pl.DataFrame(schema=schema(protocol))
