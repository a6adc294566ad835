"""MQTT: frames of tshark fields -> one row per MQTT control packet.

Alignment: msgtype, len and hdrflags occur once per message, so they zip. Optional fields are assigned by
deducing from each message's type and header flags which messages carry them (in order):
  - msgid: PUBLISH with QoS > 0, and types 4-11 (PUBACK..UNSUBACK)
  - clientid, conflags: CONNECT
  - topic: one per PUBLISH; one or more per SUBSCRIBE/UNSUBSCRIBE (joined with "\\n" in `topic`)
  - qos: PUBLISH's header QoS bits; SUBSCRIBE's first requested QoS
A frame whose observed occurrence counts do not match the deduction (several SUBSCRIBEs in one segment,
malformed messages, a value containing the aggregator) is returned as "needs exact path".
"""

from __future__ import annotations

import numpy as np
import polars as pl

from spear_tui.protocols.common import (
    attach,
    explode_lists,
    finish,
    frame_rows,
    gather_rows,
    rank_within_frame,
    running_start,
)
from spear_tui.protocols.fields import AGGREGATOR, common_columns, malformed_in, occurrences, to_int
from spear_tui.protocols.schema import schema

NAME = "mqtt"
KEY = "mqtt_msgtype"
MALFORMED_NAMES = ("MQTT",)
MANDATORY = ["mqtt_msgtype", "mqtt_len", "mqtt_hdrflags"]

TYPE_NAMES: dict[int, str] = {
    0: "Reserved",
    1: "CONNECT",
    2: "CONNACK",
    3: "PUBLISH",
    4: "PUBACK",
    5: "PUBREC",
    6: "PUBREL",
    7: "PUBCOMP",
    8: "SUBSCRIBE",
    9: "SUBACK",
    10: "UNSUBSCRIBE",
    11: "UNSUBACK",
    12: "PINGREQ",
    13: "PINGRESP",
    14: "DISCONNECT",
    15: "AUTH",
}


def type_name(msgtype: int) -> str:
    return TYPE_NAMES.get(msgtype, f"type {msgtype}")


def _typed_messages(frames: pl.DataFrame) -> pl.DataFrame:
    msgs = explode_lists(frames, MANDATORY).with_columns(
        msgtype=to_int(pl.col("mqtt_msgtype")),
        length=to_int(pl.col("mqtt_len")),
        hdrflags=to_int(pl.col("mqtt_hdrflags")),
    )
    mt = pl.col("msgtype")
    return msgs.with_columns(
        need_msgid=((mt == 3) & (((pl.col("hdrflags") // 2) % 4) > 0)) | mt.is_between(4, 11),
        need_cid=mt == 1,
        is_pub=mt == 3,
        is_var=mt.is_in([8, 10]),
    )


def per_frame(msgs: pl.DataFrame, frames: int, names: tuple[str, str]) -> pl.Series:
    """How many messages of each frame (`fid` 0..frames-1) have the flag `names[1]`, as `names[0]`:
    a count by frame id, not a group-by and join (a tenth of MQTT's decoding time). A frame without
    messages here (one that failed the mandatory check) counts 0, and so does a flag that is null (an
    unparsable type), as a sum would; only good frames use the counts."""
    fid = msgs["fid"].to_numpy()
    counts = np.bincount(fid, weights=msgs[names[1]].fill_null(False).to_numpy(), minlength=frames)
    return pl.Series(names[0], counts.astype(np.int64))


def decode(raw: pl.DataFrame, file_index: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """-> (messages of frames whose fields reconcile, raw rows of frames that need the exact path)."""
    f = raw.filter(pl.col(KEY).is_not_null())
    if f.height == 0:
        return finish_empty(), f
    f = f.with_row_index("fid").with_columns(
        [
            occurrences(c).alias(f"n_{c}")
            for c in [*MANDATORY, "mqtt_msgid", "mqtt_clientid", "mqtt_conflags", "mqtt_topic"]
        ]
    )
    mand_ok = (pl.col("n_mqtt_len") == pl.col("n_mqtt_msgtype")) & (
        pl.col("n_mqtt_hdrflags") == pl.col("n_mqtt_msgtype")
    )
    f = f.with_columns(ok=mand_ok & ~malformed_in(MALFORMED_NAMES))
    msgs = _typed_messages(f.filter("ok"))
    needs = (("e_msgid", "need_msgid"), ("e_cid", "need_cid"), ("e_pub", "is_pub"), ("e_var", "is_var"))
    f = f.with_columns(per_frame(msgs, f.height, need) for need in needs)
    # An empty string value is indistinguishable from an absent field when it is the only occurrence.
    n_cid = (
        pl.when((pl.col("n_mqtt_clientid") == 0) & (pl.col("e_cid") == 1))
        .then(1)
        .otherwise(pl.col("n_mqtt_clientid"))
    )
    n_topic_fixed = pl.col("e_pub") + pl.col("e_var")
    n_topic = (
        pl.when((pl.col("n_mqtt_topic") == 0) & (n_topic_fixed == 1))
        .then(1)
        .otherwise(pl.col("n_mqtt_topic"))
    )
    topics_ok = (
        pl.when(pl.col("e_var") == 0)
        .then(n_topic == pl.col("e_pub"))
        .otherwise((pl.col("e_var") == 1) & (n_topic >= n_topic_fixed))
    )
    f = f.with_columns(
        ok=pl.col("ok")
        & (pl.col("n_mqtt_msgid") == pl.col("e_msgid"))
        & (n_cid == pl.col("e_cid"))
        & (pl.col("n_mqtt_conflags") == pl.col("e_cid"))
        & topics_ok,
        var_topics=n_topic - pl.col("e_pub"),
        mqtt_clientid=pl.when(pl.col("mqtt_clientid").is_null() & (pl.col("e_cid") == 1))
        .then(pl.lit(""))
        .otherwise(pl.col("mqtt_clientid")),
        mqtt_topic=pl.when(pl.col("mqtt_topic").is_null() & (n_topic_fixed == 1))
        .then(pl.lit(""))
        .otherwise(pl.col("mqtt_topic")),
    )
    good = f.filter("ok")
    bad = f.filter(~pl.col("ok")).select(raw.columns)
    msgs = msgs.filter(pl.col("fid").is_in(good["fid"].implode()))  # whole frames, in order
    rows = frame_rows(msgs, good)
    msgs = msgs.with_columns(gather_rows(good, rows, ["var_topics"]))
    msgs = msgs.with_columns(
        r_msgid=rank_within_frame(pl.col("need_msgid")),
        r_cid=rank_within_frame(pl.col("need_cid")),
        topic_n=pl.when(pl.col("is_pub"))
        .then(1)
        .when(pl.col("is_var"))
        .then(pl.col("var_topics"))
        .otherwise(0),
    ).with_columns(topic_start=running_start("topic_n"))
    msgs = msgs.with_columns(r_topic=pl.when(pl.col("is_pub")).then(pl.col("topic_start")))
    msgs = attach(msgs, good, "mqtt_msgid", "r_msgid", "msgid_s", rows)
    msgs = attach(msgs, good, "mqtt_clientid", "r_cid", "clientid", rows)
    msgs = attach(msgs, good, "mqtt_conflags", "r_cid", "conflags_s", rows)
    msgs = attach(msgs, good, "mqtt_topic", "r_topic", "pub_topic", rows)
    # SUBSCRIBE/UNSUBSCRIBE: at most one per good frame; take its slice of the frame's topics.
    var_rows = msgs.filter("is_var").select("fid", "topic_start", "topic_n")
    if var_rows.height:
        frame_cols = good.select(
            "fid",
            pl.col("mqtt_topic").str.split(AGGREGATOR).alias("topics"),
            pl.coalesce(pl.col("mqtt_subqos"), pl.col("mqtt_subqos5"))
            .str.split(AGGREGATOR)
            .list.first()
            .alias("subqos_s"),
        )
        var_rows = var_rows.join(frame_cols, on="fid", how="left").select(
            "fid",
            pl.col("topics")
            .list.slice(pl.col("topic_start"), pl.col("topic_n"))
            .list.join("\n")
            .alias("var_topic"),
            "subqos_s",
        )
        msgs = msgs.join(var_rows, on="fid", how="left", maintain_order="left").with_columns(
            var_topic=pl.when("is_var").then("var_topic"), subqos_s=pl.when("is_var").then("subqos_s")
        )
    else:
        msgs = msgs.with_columns(var_topic=pl.lit(None, pl.Utf8), subqos_s=pl.lit(None, pl.Utf8))
    common = good.select("fid", *common_columns(file_index, "tcp_sport", "tcp_dport"))
    msgs = msgs.with_columns(gather_rows(common, rows, common.columns[1:]))
    table = msgs.with_columns(
        topic=pl.coalesce("pub_topic", "var_topic"),
        msgid=to_int(pl.col("msgid_s")),
        conflags=to_int(pl.col("conflags_s")),
        qos=pl.when(pl.col("is_pub"))
        .then((pl.col("hdrflags") // 2) % 4)
        .when(pl.col("msgtype") == 8)
        .then(to_int(pl.col("subqos_s"))),
    )
    return finish(table, schema(NAME)), bad


def finish_empty() -> pl.DataFrame:
    return pl.DataFrame(schema=schema(NAME))


def fallback(bad: pl.DataFrame, file_index: int) -> tuple[pl.DataFrame, int, int]:
    """Frames without an exact path (live): keep messages whose mandatory fields zip, optional fields null;
    drop the last message of a malformed frame. -> (table, skipped, unaligned messages)."""
    if bad.height == 0:
        return finish_empty(), 0, 0
    f = bad.with_row_index("fid").with_columns(
        n=occurrences(KEY),
        zip_ok=(occurrences("mqtt_len") == occurrences(KEY))
        & (occurrences("mqtt_hdrflags") == occurrences(KEY)),
        mal=malformed_in(MALFORMED_NAMES),
    )
    total = int(f["n"].sum())
    msgs = _typed_messages(f.filter("zip_ok")).join(
        f.select("fid", "n", "mal", *common_columns(file_index, "tcp_sport", "tcp_dport")),
        on="fid",
        maintain_order="left",
    )
    msgs = msgs.filter(~(pl.col("mal") & (pl.col("pos") == pl.col("n") - 1)))
    msgs = msgs.with_columns(
        topic=pl.lit(None, pl.Utf8),
        clientid=pl.lit(None, pl.Utf8),
        msgid=pl.lit(None, pl.Int64),
        conflags=pl.lit(None, pl.Int64),
        qos=pl.when(pl.col("is_pub")).then((pl.col("hdrflags") // 2) % 4),
    )
    table = finish(msgs, schema(NAME))
    return table, total - table.height, table.height
