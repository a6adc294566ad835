"""The views of one protocol share their common per-message arrays: made once, the same results."""

from __future__ import annotations

from pathlib import Path

from spear_tui.detect.lstm import shared_views
from spear_tui.detect.lstm.views import view_config
from spear_tui.events import Alert, ChunkScored

MODELS = Path(__file__).resolve().parents[3] / "models"
BATCHES = (3_700, 500, 2_900, 6_000, 4_400)  # not multiples of the chunk: runs start mid-stream


def _views(shared: bool):
    from spear_tui.detect.lstm.online import OnlineLSTMDetector

    common = shared_views.SharedViews() if shared else None
    return [
        OnlineLSTMDetector("mqtt", view_config(v), seed=0, name=v, checkpoint=MODELS / ckpt,
                           shared=common if shared else None)
        for v, ckpt in (("lstm", "mqtt.msgpack"), ("rhythm", "mqtt_rhythm.msgpack"))
    ]


def _run(dets, table) -> list[list]:
    out: list[list] = [[] for _ in dets]
    lo = 0
    for n in BATCHES:
        part = table.slice(lo, n)
        lo += n
        for i, det in enumerate(dets):  # as the engine does: each view gets the same table object
            out[i].extend(det.feed(part))
    for i, det in enumerate(dets):
        out[i].extend(det.flush())
    return out


def test_shared_arrays_give_each_view_what_it_computed_alone(mqtt_normal, monkeypatch):
    table = mqtt_normal.slice(0, sum(BATCHES))
    alone = _run(_views(shared=False), table)
    made, learned = [], []
    real, real_ids = shared_views.prepare, shared_views.mqtt_client_ids
    monkeypatch.setattr(shared_views, "prepare", lambda *a, **k: made.append(1) or real(*a, **k))
    monkeypatch.setattr(shared_views, "mqtt_client_ids", lambda t: learned.append(1) or real_ids(t))
    views = _views(shared=True)
    together = _run(views, table)
    assert views[0]._shared is views[1]._shared and views[0]._shared._base is None  # not kept between runs
    for mine, theirs in zip(alone, together, strict=True):
        chunks = [e for e in mine if isinstance(e, ChunkScored)]
        assert len(chunks) == len(table) // 500
        assert chunks == [e for e in theirs if isinstance(e, ChunkScored)]
        assert [e for e in mine if isinstance(e, Alert)] == [e for e in theirs if isinstance(e, Alert)]
    # every batch here completes chunks (one run each; nothing left for the flush): one array set per
    # run for both views, not one per view
    assert len(made) == len(BATCHES)
    assert len(learned) == len(BATCHES)  # each table's client ids once, not once per view


def test_client_ids_are_learned_once_per_table(mqtt_normal):
    shared = shared_views.SharedViews()
    part = mqtt_normal.slice(0, 5_000)
    shared.learn_client_ids(part)
    learned = dict(shared.client_ids)
    assert learned and all(isinstance(v, str) for v in learned.values())  # the sample's CONNECTs
    version = shared._ids_version
    shared.learn_client_ids(part)  # the second view, the same table: nothing new
    shared.learn_client_ids(mqtt_normal.slice(0, 5_000))  # the same CONNECTs again, another table
    assert shared.client_ids == learned and shared._ids_version == version
