"""BACnet/IP: frames of tshark fields -> one row per BVLC message (one per UDP datagram).

`msgtype` encoding (one integer for the sequence models and histograms):
  - APDU present:        apdu_type * 256 + service  (confirmed service for types 0, 2, 3, 5;
                         unconfirmed service for type 1; 255 when the APDU type has no service)
  - NPDU only (network-layer message): 0x1000 + network message type (`bacnet.mesgtyp`)
  - BVLC only (e.g. Register-Foreign-Device, BVLC-Result): 0x2000 + `bvlc.function`
`length` is the UDP payload length (udp.length - 8): tshark's `bvlc.length` is the BVLC header length.
Repeated fields inside one APDU (ReadPropertyMultiple lists several objects) keep their first occurrence.
"""

from __future__ import annotations

import polars as pl

from spear_tui.protocols.common import finish
from spear_tui.protocols.fields import common_columns, first, malformed_in, to_int
from spear_tui.protocols.schema import schema

NAME = "bacnet"
KEY = "bv_function"
MALFORMED_NAMES = ("BACapp", "BACnet", "BVLC")
NO_SERVICE = 255
NPDU_BASE = 0x1000
BVLC_BASE = 0x2000

# Names as tshark spells them (tests/protocols/test_names.py compares them on real captures).
APDU_TYPES = {
    0: "Confirmed-REQ",
    1: "Unconfirmed-REQ",
    2: "Simple-ACK",
    3: "Complex-ACK",
    4: "Segment-ACK",
    5: "Error",
    6: "Reject",
    7: "Abort",
}
CONFIRMED = {
    0: "acknowledgeAlarm",
    1: "confirmedCOVNotification",
    2: "confirmedEventNotification",
    3: "getAlarmSummary",
    4: "getEnrollmentSummary",
    5: "subscribeCOV",
    6: "atomicReadFile",
    7: "atomicWriteFile",
    8: "addListElement",
    9: "removeListElement",
    10: "createObject",
    11: "deleteObject",
    12: "readProperty",
    14: "readPropertyMultiple",
    15: "writeProperty",
    16: "writePropertyMultiple",
    17: "deviceCommunicationControl",
    18: "confirmedPrivateTransfer",
    20: "reinitializeDevice",
    21: "vtOpen",
    22: "vtClose",
    23: "vtData",
    26: "readRange",
    27: "lifeSafetyOperation",
    28: "subscribeCOVProperty",
    29: "getEventInformation",
    30: "subscribeCovPropertyMultiple",
    31: "confirmedCovNotificationMultiple",
}
UNCONFIRMED = {
    0: "i-Am",
    1: "i-Have",
    2: "unconfirmedCOVNotification",
    3: "unconfirmedEventNotification",
    4: "unconfirmedPrivateTransfer",
    5: "unconfirmedTextMessage",
    6: "timeSynchronization",
    7: "who-Has",
    8: "who-Is",
    9: "utcTimeSynchronization",
    10: "writeGroup",
    11: "unconfirmedCovNotificationMultiple",
    13: "who-am-I",
    14: "you-are",
}
BVLC_FUNCTIONS = {
    0: "BVLC-Result",
    1: "Write-BDT",
    2: "Read-BDT",
    3: "Read-BDT-Ack",
    4: "Forwarded-NPDU",
    5: "Register-Foreign-Device",
    6: "Read-FDT",
    7: "Read-FDT-Ack",
    8: "Delete-FDT-Entry",
    9: "Distribute-Broadcast-To-Network",
    10: "Original-Unicast-NPDU",
    11: "Original-Broadcast-NPDU",
    12: "Secure-BVLL",
}


def type_name(msgtype: int) -> str:
    if msgtype >= BVLC_BASE:
        return f"BVLC {BVLC_FUNCTIONS.get(msgtype - BVLC_BASE, msgtype - BVLC_BASE)}"
    if msgtype >= NPDU_BASE:
        return f"NPDU network message {msgtype - NPDU_BASE}"
    apdu, service = divmod(msgtype, 256)
    name = APDU_TYPES.get(apdu, f"APDU {apdu}")
    if service == NO_SERVICE:
        return name
    names = UNCONFIRMED if apdu == 1 else CONFIRMED
    return f"{name} {names.get(service, f'service {service}')}"


def _table(f: pl.DataFrame, file_index: int) -> pl.DataFrame:
    apdu = to_int(first("bv_apdu"))
    cs = to_int(first("bv_cservice"))
    us = to_int(first("bv_uservice"))
    service = pl.when(apdu == 1).then(us).when(apdu.is_in([0, 2, 3, 5])).then(cs).otherwise(None)
    msgtype = (
        pl.when(apdu.is_not_null())
        .then(apdu * 256 + service.fill_null(NO_SERVICE))
        .when(pl.col("bv_nettype").is_not_null())
        .then(NPDU_BASE + to_int(first("bv_nettype")))
        .otherwise(BVLC_BASE + to_int(first("bv_function")))
    )
    table = f.select(
        *common_columns(file_index, "udp_sport", "udp_dport"),
        msgtype=msgtype,
        length=to_int(first("udp_length")) - 8,
        bvlc_function=to_int(first("bv_function")),
        apdu_type=apdu,
        confirmed_service=cs,
        unconfirmed_service=us,
        invoke_id=to_int(first("bv_invoke")),
        object_type=to_int(first("bv_objtype")),
        object_instance=to_int(first("bv_instance")),
    )
    return finish(table, schema(NAME))


def decode(raw: pl.DataFrame, file_index: int) -> tuple[pl.DataFrame, int]:
    """-> (messages, skipped). One message per datagram, so there is nothing to align; malformed ones
    (tshark's `_ws.malformed` in BVLC/BACnet/BACapp) are counted and dropped."""
    f = raw.filter(pl.col(KEY).is_not_null())
    if f.height == 0:
        return pl.DataFrame(schema=schema(NAME)), 0
    mal = malformed_in(MALFORMED_NAMES)
    good = f.filter(~mal)
    return _table(good, file_index), f.height - good.height
