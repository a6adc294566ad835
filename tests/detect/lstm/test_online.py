"""Online detector on real recorded traffic: the paper's shuffle experiment, events, checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored

ROOT = Path(__file__).resolve().parents[3]
NORMAL = ROOT / "sample_captures" / "normal.pcapng.gz"
MODELS = ROOT / "models"

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


@pytest.fixture(scope="module")
def trained_mqtt(mqtt_normal, tmp_path_factory) -> Path:
    """A model trained exactly as the shipped one (`experiment train --skip 10000`), on messages
    10,000+ of the normal sample, so the test follows the sample capture if it is re-recorded."""
    from spear_tui.commands.experiment import train_offline

    det, per_epoch = train_offline(mqtt_normal.slice(10_000), "mqtt", epochs=4, steps=10, mode="flow", seed=0)
    assert per_epoch[-1] < 0.5 * per_epoch[0]  # it learned
    path = tmp_path_factory.mktemp("model") / "mqtt.msgpack"
    det.save(path)
    return path


@pytest.fixture(scope="module")
def shuffle_result(mqtt_normal, trained_mqtt):
    """The paper's experiment on the first 10,000 MQTT messages of the normal sample capture (never
    trained on), starting from the trained model."""
    from spear_tui.commands.experiment import run_shuffle

    return run_shuffle(mqtt_normal.slice(0, 10_000), "mqtt", modes=("flow",), seed=0, checkpoint=trained_mqtt)


def test_both_shuffled_chunks_flagged_and_no_false_alarm_after_warmup(shuffle_result):
    m = shuffle_result.modes[0]
    assert shuffle_result.chunks == 20
    assert m.full_flagged, m
    assert m.partial_flagged, m
    assert m.false_alarms == [], m
    assert set(m.flagged) == {shuffle_result.full_at, shuffle_result.partial_at}
    assert m.full_height > m.partial_height > m.max_normal_height


def test_without_shuffles_nothing_is_flagged(mqtt_normal, trained_mqtt):
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=trained_mqtt)
    events = det.feed(mqtt_normal.slice(0, 10_000))
    assert [e for e in events if isinstance(e, Alert)] == []
    assert len(det.scores) == 20


@pytest.mark.parametrize("protocol", ["mqtt", "modbus", "bacnet"])
def test_shipped_models_load_and_predict_far_better_than_a_fresh_net(protocol):
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    if not NORMAL.exists():
        pytest.skip("normal sample capture missing")
    from spear_tui.commands.experiment import load_messages

    data = load_messages(NORMAL, protocol, 3_000, [])
    shipped = OnlineLSTMDetector(protocol, seed=0, checkpoint=MODELS / f"{protocol}.msgpack")
    fresh = OnlineLSTMDetector(protocol, seed=0)
    shipped.feed(data)
    fresh.feed(data.slice(0, 500))
    assert shipped.cfg.mode == "flow" and shipped.norm.count > 5_000
    assert np.median(shipped.scores) < 0.5 * fresh.scores[0]


@pytest.fixture(scope="module")
def fed(mqtt_normal):
    """A fresh detector fed 5,250 messages in uneven pieces, and a twin fed them in one go."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    data = mqtt_normal.slice(0, 5_250)
    a = OnlineLSTMDetector("mqtt", seed=3)
    events = []
    for lo, hi in ((0, 120), (120, 1_490), (1_490, 1_500), (1_500, 5_250)):
        events += a.feed(data.slice(lo, hi - lo))
    b = OnlineLSTMDetector("mqtt", seed=3)
    b.feed(data)
    return data, a, b, events


def test_chunks_do_not_depend_on_how_the_stream_was_batched(fed):
    _, a, b, _ = fed
    assert len(a.scores) == 10
    assert a.scores == b.scores and a.train_losses == b.train_losses  # also: deterministic per seed


def test_chunk_events_name_their_time_and_frame_range_and_talkers(fed):
    data, _, _, events = fed
    chunks = [e for e in events if isinstance(e, ChunkScored)]
    assert [c.index for c in chunks] == list(range(10))
    for c in chunks:
        part = data.slice(c.index * 500, 500)
        assert c.first_frame == part["frame"][0] and c.last_frame == part["frame"][-1]
        assert c.start == part["time"].min() and c.end == part["time"].max()
        assert c.file == 0 and c.protocol == "mqtt"
        assert c.talkers and all(isinstance(t, str) for t in c.talkers)
        assert (c.threshold is None) == (c.index < 8)  # warm-up: no threshold yet
    # the recorded clients connect with their clientids: talkers use them, not bare addresses
    known = set(data.filter(pl.col("msgtype") == 1)["clientid"].drop_nulls().to_list())
    assert set(chunks[0].talkers) <= known


def test_flush_scores_a_remainder_without_training_and_drops_a_tiny_one(fed):
    from spear_tui.detect.lstm.online import MIN_PARTIAL

    data, _, b, _ = fed
    assert b._pending_rows == 250
    before = b.model.state_dict()["params"]
    events = b.flush()
    assert len(events) >= 1 and isinstance(events[0], ChunkScored)
    assert events[0].train_loss >= events[0].score  # scored only: the plain loss vs the trimmed one
    assert events[0].first_frame == data["frame"][5_000] and events[0].last_frame == data["frame"][-1]
    after = b.model.state_dict()["params"]
    assert np.array_equal(before["out"]["kernel"], after["out"]["kernel"])
    b.feed(data.slice(0, MIN_PARTIAL - 1))
    assert b.flush() == []


def test_checkpoint_round_trip_continues_identically(tmp_path, mqtt_normal):
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    data = mqtt_normal.slice(10_000, 2_000)
    a = OnlineLSTMDetector("mqtt", seed=0, checkpoint=MODELS / "mqtt.msgpack")
    a.feed(data.slice(0, 1_000))
    path = tmp_path / "m.msgpack"
    a.save(path)
    b = OnlineLSTMDetector("mqtt", seed=123, checkpoint=path)
    b._prev = a._prev.copy()  # the one-message context is per stream, not part of the model
    a.feed(data.slice(1_000, 1_000))
    b.feed(data.slice(1_000, 1_000))
    # weights, Adam moments and normalisation statistics all came back
    assert a.scores[2:] == b.scores and a.train_losses[2:] == b.train_losses


def test_checkpoint_of_another_protocol_is_refused(tmp_path):
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    with pytest.raises(UserError, match="modbus model"):
        OnlineLSTMDetector("mqtt", checkpoint=MODELS / "modbus.msgpack")
    with pytest.raises(UserError):
        OnlineLSTMDetector("mqtt", checkpoint=tmp_path / "missing.msgpack")


def test_checkpoint_with_wrong_weights_is_refused_before_the_net_is_built(tmp_path):
    """The net is built lazily (on the first chunk), but a bad checkpoint is still refused at once."""
    from spear_tui.detect.lstm.checkpoint import load_checkpoint, save_checkpoint
    from spear_tui.detect.lstm.online import KIND, OnlineLSTMDetector

    ckpt = load_checkpoint(MODELS / "mqtt.msgpack", KIND)
    ckpt.params["out"]["kernel"] = np.zeros((10, 3), np.float32)
    save_checkpoint(tmp_path / "bad.msgpack", ckpt)
    with pytest.raises(UserError, match="does not match"):
        OnlineLSTMDetector("mqtt", checkpoint=tmp_path / "bad.msgpack")
    good = OnlineLSTMDetector("mqtt", checkpoint=MODELS / "mqtt.msgpack")
    assert good._model is None  # nothing built until a chunk needs it


def test_sensitivity_reflags_stored_scores_without_retraining(fed):
    _, a, _, _ = fed
    n = len(a.scores)
    loose, _ = a.reflag(0.5)
    strict, _ = a.reflag(100.0)
    assert len(a.scores) == n
    assert strict.sum() <= loose.sum()
    a.sensitivity = 100.0
    assert a.reflag()[0].sum() == strict.sum()


def test_connect_flood_alert_names_its_window_frames_and_talkers():
    """The recorded MQTT incident capture: the CONNECT flood is flagged, and the alert's time and frame
    range match the messages of its chunk (independently re-read from the table)."""
    import json

    cap = ROOT / "sample_captures" / "mqtt_incidents.pcapng"
    if not cap.exists():
        pytest.skip("sample_captures/mqtt_incidents.pcapng missing")
    from spear_tui.commands.experiment import load_messages
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    labels = json.loads(cap.with_name("mqtt_incidents.labels.json").read_text())["incidents"]
    flood = next(i for i in labels if i["kind"] == "connect_flood")
    table = load_messages(cap, "mqtt", 10**9, [])
    det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=MODELS / "mqtt.msgpack")
    alerts = [e for e in det.feed(table) if isinstance(e, Alert)]
    assert alerts, "the CONNECT flood was not flagged"
    for a in alerts:
        assert a.end >= flood["start"] and a.start <= flood["end"]  # no alert outside the labelled flood
        assert a.detector == "lstm" and a.score > a.threshold
        assert "baseline SDs above the rolling median" in a.reason and "\n" not in a.reason
        index = int(a.reason.split("chunk ")[1].split(" ")[0])
        part = table.slice(index * 500, 500)
        assert (a.first_frame, a.last_frame) == (part["frame"][0], part["frame"][-1])
        assert (a.start, a.end) == (part["time"].min(), part["time"].max())
        assert a.talkers and a.talkers[0] in a.reason


def test_trained_net_does_not_learn_a_wild_chunk_during_warmup(mqtt_normal):
    """No threshold exists in the warm-up; a trained net then gates on WARMUP_GATE x its training score."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=MODELS / "mqtt.msgpack")
    assert det.ref_score is not None and det.ref_score > 0  # saved by `experiment train`
    det.ref_score = 1e-9  # every chunk is "wild"
    before = det.model.state_dict()["params"]["out"]["kernel"].copy()
    det.feed(mqtt_normal.slice(0, 500))
    assert np.array_equal(before, det.model.state_dict()["params"]["out"]["kernel"])
    det.ref_score = None  # no reference: warm-up chunks are trained on
    det.feed(mqtt_normal.slice(500, 500))
    assert not np.array_equal(before, det.model.state_dict()["params"]["out"]["kernel"])


def test_live_thresholds_equal_a_reflag_of_the_whole_series_on_a_long_run(mqtt_normal):
    """Per chunk the detector reads only the tail of its score series (O(window)); over more chunks
    than window + warm-up that must still give exactly the thresholds of the whole series."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0)  # fresh: skip > 0 too
    det.feed(pl.concat([mqtt_normal, mqtt_normal.slice(0, 10_000)]))
    p = det.peak_params()
    assert len(det.scores) > p["window"] + p["warmup"] + p["skip"] + 10
    flags, thr = det.reflag()
    live = np.array([np.nan if t is None else t for t in det.thresholds])
    np.testing.assert_array_equal(live, thr)


def test_each_chunk_is_gated_by_the_threshold_of_the_chunk_before_it(mqtt_normal, monkeypatch):
    """A chunk's training gate is the previous chunk's threshold: the same in every chunk, whatever the
    batching (a batch's first chunk could otherwise use its own, exact threshold and results would
    depend on batch sizes). Seen one chunk per call, where every gate a call is given is exact."""
    from spear_tui.detect.lstm import online
    from spear_tui.detect.lstm.online import GATE_LAG, OnlineLSTMDetector

    monkeypatch.setattr(online, "CHUNKS_PER_CALL", 1)
    gates: list[float] = []
    det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=MODELS / "mqtt.msgpack")
    dispatch = det.model.dispatch_group

    def spy(group):
        gates.extend(group.arrays[4][: group.size].tolist())
        return dispatch(group)

    det.model.dispatch_group = spy
    for lo, n in ((0, 3_500), (3_500, 500), (4_000, 1_000), (5_000, 7_000)):  # batch starts mid-warm-up too
        det.feed(mqtt_normal.slice(lo, n))
    assert len(gates) == len(det.scores) == 24
    for i, gate in enumerate(gates):
        before = det.thresholds[i - GATE_LAG] if i >= GATE_LAG else None
        assert gate == np.float32(before if before is not None else 5.0 * det.ref_score), i
    assert sum(t is not None for t in det.thresholds[:-GATE_LAG]) >= 10  # thresholds were in play


def _run_in_calls(
    table, monkeypatch, per_call: int, guess=None, batches=(0, 3_500, 4_000, 5_000), fresh=False, steps=None
):
    """A detector (shipped MQTT weights, or `fresh`) fed `table` in `batches`, `per_call` chunks per
    call; `guess` replaces the gates a call cannot know yet; `steps` collects the Adam steps each call
    gave its chunks. Returns it, the size of every call and the events."""
    from spear_tui.detect.lstm import online
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    monkeypatch.setattr(online, "CHUNKS_PER_CALL", per_call)
    ckpt = None if fresh else MODELS / "mqtt.msgpack"
    det = OnlineLSTMDetector("mqtt", seed=0, checkpoint=ckpt)
    if guess is not None:
        det._speculative_gate = lambda: guess
    calls = []
    dispatch = det.model.dispatch_group

    def spy(group):
        calls.append(group.size)
        if steps is not None:
            steps.append(group.arrays[3][: group.size].tolist())
        return dispatch(group)

    det.model.dispatch_group = spy
    events = []
    bounds = [*batches, table.height]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        events.extend(det.feed(table.slice(lo, hi - lo)))
    events.extend(det.flush())
    return det, calls, events


@pytest.mark.parametrize("fresh", [False, True])
def test_chunks_come_out_the_same_one_per_call_or_many(mqtt_normal, monkeypatch, fresh):
    """Every chunk runs through the same compiled program, so grouping chunks into calls changes no
    bit of any score, loss, threshold or event; a fresh net's warm-up steps go to its first
    `warmup_train` chunks however they are grouped (the next call is prepared before the one in flight
    is counted)."""
    table = mqtt_normal.slice(0, 16_250)
    one_steps: list = []
    many_steps: list = []
    one, one_calls, one_events = _run_in_calls(table, monkeypatch, 1, fresh=fresh, steps=one_steps)
    many, many_calls, many_events = _run_in_calls(table, monkeypatch, 16, fresh=fresh, steps=many_steps)
    warm = one.cfg.warmup_steps
    for steps in (one_steps, many_steps):
        flat = [n for call in steps for n in call]
        assert flat.count(warm) == (one.cfg.warmup_train if fresh else 0), flat[:20]
        assert flat[: one.cfg.warmup_train] == ([warm] * one.cfg.warmup_train if fresh else [1] * 3)
    assert len(one.scores) == len(one_calls) == 33  # 32 chunks and the flushed remainder of 250
    assert max(many_calls) > 1 and len(many_calls) < len(one_calls)
    assert one.scores == many.scores and one.train_losses == many.train_losses
    assert one.thresholds == many.thresholds and one_events == many_events


def test_a_wrongly_guessed_gate_runs_the_call_again_with_the_true_one(mqtt_normal, monkeypatch):
    """Gates guessed wrong (0: every chunk would be kept out of training) are found out when the scores
    are back, and the call is run again: the detector ends exactly where exact gates take it."""
    table = mqtt_normal.slice(0, 16_000)
    exact, exact_calls, exact_events = _run_in_calls(table, monkeypatch, 1)
    _, plain_calls, _ = _run_in_calls(table, monkeypatch, 16)
    guessed, guessed_calls, guessed_events = _run_in_calls(table, monkeypatch, 16, guess=0.0)
    assert len(guessed_calls) > len(plain_calls) + 5  # batches of 7, 1, 2 and 22 chunks: reruns happened
    assert exact.scores == guessed.scores and exact.train_losses == guessed.train_losses
    assert exact_events == guessed_events


def _labelled(name: str, protocol: str):
    import json

    cap = ROOT / "sample_captures" / f"{name}.pcapng"
    if not cap.exists():
        pytest.skip(f"{cap} missing")
    from spear_tui.commands.experiment import load_messages

    labels = json.loads(cap.with_name(f"{name}.labels.json").read_text())["incidents"]
    return load_messages(cap, protocol, 10**9, []), labels


@pytest.mark.parametrize("name,protocol,kind", [("modbus_incidents", "modbus", "unit_id_scan"),
                                                ("mqtt_incidents", "mqtt", "connect_flood")])
def test_incidents_inside_the_warm_up_are_judged_after_it(name, protocol, kind):
    """Both recorded captures start their first incident in chunk 5, inside the 8-chunk warm-up where
    no rolling threshold exists yet; the warm-up review flags those chunks at the end of the source."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    table, labels = _labelled(name, protocol)
    incident = next(i for i in labels if i["kind"] == kind)
    det = OnlineLSTMDetector(protocol, seed=0, checkpoint=MODELS / f"{protocol}.msgpack")
    events = det.feed(table)
    chunks = [e for e in events if isinstance(e, ChunkScored)]
    assert len(chunks) < 24  # shorter than the review point: the review comes with flush()
    early = [e for e in events if isinstance(e, Alert) and e.end <= chunks[7].end]
    assert early == []  # online, the warm-up cannot flag
    review = [e for e in det.flush() if isinstance(e, Alert) and "warm-up" in e.reason]
    assert review, f"{kind} in the warm-up was not flagged"
    for a in review:
        assert a.end >= incident["start"] and a.start <= incident["end"]  # inside the labelled incident
        assert a.score > a.threshold and a.first_frame >= chunks[0].first_frame
        assert a.first_frame in {c.first_frame for c in chunks[:8]}


@pytest.mark.parametrize("protocol", ["mqtt", "modbus", "bacnet"])
def test_warm_up_review_raises_nothing_on_the_normal_day(protocol):
    from spear_tui.commands.experiment import load_messages
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector(protocol, seed=0, checkpoint=MODELS / f"{protocol}.msgpack")
    table = load_messages(NORMAL, protocol, 10**9, [])  # MQTT: 60 chunks, Modbus 19, BACnet 14
    events = det.feed(table) + det.flush()
    assert det._warmup_chunks is None  # reviewed
    assert [e for e in events if isinstance(e, Alert) and "warm-up" in e.reason] == []


def test_a_fresh_net_has_no_warm_up_review(mqtt_normal):
    """A fresh net's first losses are it learning to predict at all: they are no baseline."""
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0)
    events = det.feed(mqtt_normal.slice(0, 12_500)) + det.flush()
    assert det._warmup_chunks is None
    assert not [e for e in events if isinstance(e, Alert) and "warm-up" in e.reason]


def test_chunk_tensors_are_the_shifted_pairs_of_the_normalised_chunk(mqtt_normal):
    """`_tensors` normalises the previous message and the chunk in one call: the same bits as
    normalising each and pairing them with `chunk_tensors`, for a full and a padded partial chunk."""
    from spear_tui.detect.lstm.chunk_batch import ChunkBatch
    from spear_tui.detect.lstm.features import chunk_tensors, prepare
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    det = OnlineLSTMDetector("mqtt", seed=0)
    cfg = det.cfg
    table = mqtt_normal.slice(0, 2 * cfg.chunk + 137)
    prep = prepare(table, "mqtt")
    batch = ChunkBatch(prep, cfg.chunk, cfg.mode)
    for lo in (0, cfg.chunk, 2 * cfg.chunk):
        hi = min(lo + cfg.chunk, table.height)
        prev = det._prev.copy()
        got = det._tensors(batch, lo, hi)
        order = batch.order(lo, hi)
        seq = det.norm.apply(prep.raw[lo:hi][order])
        m = hi - lo
        if m < cfg.chunk:
            seq = np.concatenate([seq, np.zeros((cfg.chunk - m, cfg.features), np.float32)])
            assert got.mask is not None and got.mask.sum() == m
        else:
            assert got.mask is None
        x, y = chunk_tensors(seq, det.norm.apply(prev[None, :])[0], cfg.batch, cfg.seq_len)
        assert got.x.dtype == x.dtype and got.y.dtype == y.dtype
        assert np.array_equal(got.x.view(np.uint32), x.view(np.uint32))
        assert np.array_equal(got.y.view(np.uint32), y.view(np.uint32))
        assert np.array_equal(got.last, prep.raw[lo:hi][order[-1]])
        det.norm.merge(*got.stats)
        det._prev = got.last
