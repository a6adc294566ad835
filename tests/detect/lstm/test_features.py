"""Feature extraction: encoding, running normalisation, sequence modes, talkers."""

from __future__ import annotations

import numpy as np
import polars as pl
from fuzzing import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spear_tui.detect.lstm.features import (
    CLIP,
    RunningNorm,
    batch_order,
    batch_talkers,
    chunk_order,
    chunk_stats,
    chunk_talkers,
    chunk_tensors,
    mqtt_client_ids,
    prepare,
    raw_features,
    sequence_order,
    top_talkers,
)
from spear_tui.protocols.schema import schema


def _table(rows: list[tuple], protocol: str = "mqtt") -> pl.DataFrame:
    """rows: (src, sport, dst, dport, msgtype, length, clientid)"""
    sch = schema(protocol)
    data = {c: [] for c in sch}
    for i, (src, sport, dst, dport, t, n, cid) in enumerate(rows):
        for c in sch:
            data[c].append(None)
        data["frame"][-1] = i + 1
        data["file"][-1] = 0
        data["time"][-1] = 1000.0 + i
        data["src"][-1], data["sport"][-1], data["dst"][-1], data["dport"][-1] = src, sport, dst, dport
        data["msgtype"][-1], data["length"][-1] = t, n
        if protocol == "mqtt":
            data["clientid"][-1] = cid
    return pl.DataFrame(data, schema=sch)


def _update(norm: RunningNorm, x: np.ndarray) -> None:
    """Merge one chunk's statistics, computed on their own (the detector's path for a batch's first chunk)."""
    norm.merge(*(v[0] for v in chunk_stats(x[None])))


C1, C2, B = ("10.0.0.1", 40001), ("10.0.0.2", 40002), ("10.0.0.9", 1883)


def up(c, t, n, cid=None):
    return (c[0], c[1], B[0], B[1], t, n, cid)


def down(c, t, n):
    return (B[0], B[1], c[0], c[1], t, n, None)


ROWS = [
    up(C1, 1, 20, "sensor-a"),  # 0 CONNECT
    down(C1, 2, 2),  # 1 CONNACK
    up(C2, 1, 21, "[bold]evil[/bold]"),  # 2 CONNECT with a markup-looking id
    up(C1, 3, 40),  # 3 PUBLISH
    down(C2, 2, 2),  # 4
    down(C1, 4, 2),  # 5 PUBACK
    up(C2, 3, 60),  # 6
    down(C2, 4, 2),  # 7
    up(C1, 12, 0),  # 8 PINGREQ
    down(C1, 13, 0),  # 9
]


def test_raw_features_encode_type_and_log_length_with_nulls():
    t = _table([up(C1, 3, 40), up(C1, None, None)])
    f = raw_features(t)
    assert f[0].tolist() == [3.0, np.log1p(40.0)]
    assert f[1].tolist() == [-1.0, 0.0]


def test_flow_mode_groups_each_connection_in_capture_order():
    order = sequence_order(_table(ROWS), "flow")
    # C1's connection first (it appears first), then C2's; within each, capture order.
    assert order.tolist() == [0, 1, 3, 5, 8, 9, 2, 4, 6, 7]


def test_direction_mode_puts_client_to_server_first():
    order = sequence_order(_table(ROWS), "direction")
    assert order.tolist() == [0, 2, 3, 6, 8, 1, 4, 5, 7, 9]


def test_paper_mode_keeps_capture_order():
    assert sequence_order(_table(ROWS), "paper").tolist() == list(range(10))


def test_bacnet_equal_ports_fall_back_to_addresses():
    rows = [
        ("10.0.0.5", 47808, "10.0.0.3", 47808, 0, 20, None),
        ("10.0.0.3", 47808, "10.0.0.5", 47808, 3, 30, None),
    ]
    prep = prepare(_table(rows, "bacnet"), "bacnet")
    assert prep.flow[0] == prep.flow[1]  # one conversation
    assert prep.from_server.tolist() == [True, False]  # larger address treated as the server side


def test_mqtt_talkers_use_clientids_from_connect_and_keep_hostile_text_verbatim():
    t = _table(ROWS)
    ids = mqtt_client_ids(t)
    assert ids == {C1: "sensor-a", C2: "[bold]evil[/bold]"}
    # C1's connection has 6 messages, C2's 4: broker->client messages count for the client.
    assert top_talkers(t, "mqtt", ids) == ("sensor-a", "[bold]evil[/bold]")
    # Without the CONNECTs the client address stands in.
    assert top_talkers(t, "mqtt", {}) == ("10.0.0.1", "10.0.0.2")


def test_one_address_under_many_client_ids_is_named_as_one_talker():
    rows = list(ROWS)
    bot = "10.6.6.6"
    for j in range(5):  # a CONNECT flood: 5 client ids from one host, 2 messages each
        rows.append((bot, 50000 + j, B[0], B[1], 1, 20, f"bot-{j}"))
        rows.append((B[0], B[1], bot, 50000 + j, 2, 2, None))
    t = _table(rows)
    talkers = top_talkers(t, "mqtt", mqtt_client_ids(t))
    assert talkers == ("10.6.6.6 (5 client ids)", "sensor-a", "[bold]evil[/bold]")


def test_modbus_talkers_are_sending_addresses_by_count():
    req = ("10.1.0.1", 5000, "10.1.0.9", 502, 3, 6, None)
    resp = ("10.1.0.9", 502, "10.1.0.1", 5000, 3, 9, None)
    rows = [req] * 3 + [resp]
    assert top_talkers(_table(rows, "modbus"), "modbus") == ("10.1.0.1", "10.1.0.9")


def test_chunk_talkers_count_only_their_slice():
    prep = prepare(_table(ROWS), "mqtt", mqtt_client_ids(_table(ROWS)))
    assert chunk_talkers(prep, 6, 8) == ("[bold]evil[/bold]",)
    assert chunk_order(prep, 6, 10, "flow").tolist() == [0, 1, 2, 3]  # C2, C2, C1, C1 already grouped


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([4, 7, 10]), st.booleans())
def test_batch_talkers_equal_chunk_talkers_of_each_chunk(seed, n, flood):
    # Random traffic from a few clients (some under several client ids, some chunks crowded by a
    # CONNECT flood): the vectorised batch answer must be chunk_talkers' answer, chunk by chunk.
    rng = np.random.default_rng(seed)
    clients = [(f"10.0.0.{h}", 40000 + p) for h in range(1, 5) for p in range(3 if flood else 1)]
    rows = [up(clients[c], 1, 20, f"id-{c}") for c in range(len(clients))]
    for _ in range(5 * n):
        c = clients[rng.integers(len(clients))]
        rows.append(up(c, 3, 40) if rng.random() < 0.6 else down(c, 4, 2))
    prep = prepare(_table(rows), "mqtt", mqtt_client_ids(_table(rows)))
    got = batch_talkers(prep, n)
    assert len(got) == len(rows) // n
    assert got == [chunk_talkers(prep, c * n, (c + 1) * n) for c in range(len(got))]


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([4, 7, 10]), st.sampled_from(["flow", "direction", "paper"]))
def test_batch_order_equals_chunk_order_of_each_chunk(seed, n, mode):
    rng = np.random.default_rng(seed)
    clients = [(f"10.0.0.{h}", 40000 + p) for h in range(1, 4) for p in range(2)]
    rows = []
    for _ in range(6 * n + 3):  # a partial chunk at the end, which batch_order leaves out
        c = clients[rng.integers(len(clients))]
        rows.append(up(c, 3, 40) if rng.random() < 0.5 else down(c, 4, 2))
    prep = prepare(_table(rows), "mqtt")
    got = batch_order(prep, n, mode)
    assert got.shape == (6, n)
    for c in range(6):
        assert got[c].tolist() == chunk_order(prep, c * n, (c + 1) * n, mode).tolist()


def test_chunk_stats_merge_like_updating_with_each_chunk():
    rng = np.random.default_rng(3)
    chunks = rng.normal(2.0, 5.0, (6, 50, 2))
    one, batched = RunningNorm(), RunningNorm()
    stats = chunk_stats(chunks)
    for i, c in enumerate(chunks):
        _update(one, c)
        batched.merge(*(v[i] for v in stats))
    assert np.array_equal(one.mean, batched.mean) and np.array_equal(one.m2, batched.m2)
    assert np.array_equal(one.lo, batched.lo) and one.count == batched.count == 300


def test_chunk_tensors_shift_by_one_message():
    seq = np.arange(40, dtype=np.float32).reshape(20, 2)
    prev = np.array([-1.0, -2.0], np.float32)
    x, y = chunk_tensors(seq, prev, batch=4, seq_len=5)
    assert x.shape == y.shape == (4, 5, 2)
    assert np.array_equal(y.reshape(20, 2), seq)  # every message is a target exactly once
    assert np.array_equal(x.reshape(20, 2)[0], prev)
    assert np.array_equal(x.reshape(20, 2)[1:], seq[:-1])  # ... predicted from the one before it


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.integers(1, 200), min_size=2, max_size=6))
def test_running_norm_equals_statistics_of_everything_seen(sizes):
    rng = np.random.default_rng(sum(sizes))
    parts = [rng.normal(3.0, 2.0, (n, 2)) for n in sizes]
    norm = RunningNorm(scaling="zscore")
    for p in parts:
        _update(norm, p)
    allx = np.concatenate(parts)
    assert np.allclose(norm.mean, allx.mean(axis=0))
    assert np.allclose(norm.std, np.maximum(allx.std(axis=0), 1e-2))
    assert np.allclose(norm.lo, allx.min(axis=0)) and np.allclose(norm.hi, allx.max(axis=0))


def test_zclip_bounds_rare_values_and_survives_a_round_trip():
    norm = RunningNorm()
    _update(norm, np.array([[3.0, 1.0], [4.0, 2.0]] * 50))
    z = norm.apply(np.array([[12.0, 1.5]]))  # a PINGREQ-like rare type
    assert z[0, 0] == CLIP
    back = RunningNorm.from_dict(norm.to_dict())
    assert np.array_equal(back.apply(np.array([[3.5, 1.5]])), norm.apply(np.array([[3.5, 1.5]])))
