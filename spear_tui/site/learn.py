"""Learn a site from normal captures: novelty baselines and per-protocol stacked LSTMs in one pass.

Reuses the existing learners: `detect.novelty.learn.learn_from_tables` (learning-only novelty detectors)
and `commands.experiment.train_offline` (what trained the shipped models: 4 epochs x 10 Adam steps per
chunk, no gate, then run-time settings). The capture is read once; message tables are kept per
protocol for training (a polars frame per protocol, never per-message Python objects).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from spear_tui.errors import UserError
from spear_tui.site.profile import Site
from spear_tui.site.summary import learned_items
from spear_tui.site.window import Window

Progress = Callable[[str], None]
EPOCHS = 4
STEPS = 10


def _read(paths: Sequence[str | Path], window: Window, decode_as: Sequence[str], progress: Progress):
    """Message tables per protocol inside the window; the source's file list and time range."""
    from spear_tui.capture.source import open_capture_files

    source = open_capture_files(list(paths), decode_as=decode_as)
    parts: dict[str, list[pl.DataFrame]] = {}
    counts: dict[str, int] = {}
    last = 0.0
    try:
        window.origin = source.start_time
        total = (source.end_time or 0.0) - (source.start_time or 0.0)
        for batch in source.batches():
            for protocol, table in batch.tables.items():
                table = window.apply(table)
                if table.height:
                    parts.setdefault(protocol, []).append(table)
                    counts[protocol] = counts.get(protocol, 0) + table.height
            now = time.monotonic()
            if now - last > 0.2:
                last = now
                done = (batch.position - (source.start_time or 0.0)) / total if total > 0 else 0.0
                seen = ", ".join(f"{p} {n:,}" for p, n in counts.items()) or "no messages yet"
                progress(f"reading {min(max(done, 0.0), 1.0):4.0%}: {seen}")
        files = list(source.files)
    finally:
        source.close()
    tables = {p: pl.concat(ts, how="diagonal_relaxed") for p, ts in parts.items()}
    return tables, files


def learn_site(
    site: Site,
    paths: Sequence[str | Path],
    *,
    window: Window | None = None,
    decode_as: Sequence[str] = (),
    lstm: bool = True,
    seed: int = 0,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Learn everything the captures show about the site, save it into the site folder, and return
    the summary written to the manifest (per protocol: messages, learned items, model files)."""
    from spear_tui.detect.novelty.learn import learn_from_tables

    window = window or Window()
    tables, files = _read(paths, window, decode_as, progress)
    if not tables:
        raise UserError(
            "no MQTT, Modbus/TCP or BACnet/IP messages in the captures (or the --from/--to window)"
        )
    site.path.mkdir(parents=True, exist_ok=True)
    from spear_tui.detect.lstm.views import checkpoint_name, lstm_views
    from spear_tui.protocols.schema import PROTOCOLS

    for protocol in set(PROTOCOLS) - set(tables):  # re-learning replaces: nothing stale stays behind
        stale = [checkpoint_name(protocol, v) for v in lstm_views(protocol)] + [f"{protocol}_novelty.msgpack"]
        for name in stale:
            (site.path / name).unlink(missing_ok=True)
    novelty = learn_from_tables({p: t} for p, t in tables.items())
    summary: dict[str, Any] = {}
    for protocol, table in tables.items():
        det = novelty[protocol]
        det.save_baseline(site.path / f"{protocol}_novelty.msgpack")
        summary[protocol] = {"messages": table.height, **learned_items(protocol, det, table)}
        if lstm:
            for view in lstm_views(protocol):  # the flow LSTM, and MQTT's rhythm view beside it
                summary[protocol][view] = _train(site, protocol, table, seed, progress, view)
    m = site.manifest
    m.learned = time.time()
    m.captures = [str(Path(f).resolve()) for f in files]
    m.messages = {p: t.height for p, t in tables.items()}
    m.start = min(float(t["time"].min()) for t in tables.values())
    m.end = max(float(t["time"].max()) for t in tables.values())
    m.window = window.describe()
    m.learned_items = summary
    site.save()
    return summary


def _train(
    site: Site, protocol: str, table: pl.DataFrame, seed: int, progress: Progress, view: str = "lstm"
) -> dict[str, Any]:
    """Train and save the view's checkpoint (`<protocol>.msgpack`, `mqtt_rhythm.msgpack`: what the
    engine loads), or say why not (too few messages for one chunk)."""
    from spear_tui.commands.experiment import train_offline
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig
    from spear_tui.detect.lstm.views import checkpoint_name, view_config

    cfg = view_config(view)
    out = site.path / checkpoint_name(protocol, view)
    name = "LSTM" if view == "lstm" else f"{view} LSTM"
    if table.height < cfg.chunk:
        out.unlink(missing_ok=True)
        return {"trained": False, "why": f"{table.height} messages, fewer than one {cfg.chunk}-message chunk"}
    progress(
        f"training {protocol} {name} on {table.height:,} messages ({table.height // cfg.chunk} chunks, "
        f"{EPOCHS} epochs)"
    )

    def epoch_done(epoch: int, score: float) -> None:
        bar = "#" * epoch + "." * (EPOCHS - epoch)
        progress(f"training {protocol} {name} [{bar}] epoch {epoch}/{EPOCHS}, mean chunk score {score:.4g}")

    det, per_epoch = train_offline(
        table.sort("time"),
        protocol,
        epochs=EPOCHS,
        steps=STEPS,
        mode=cfg.mode,
        seed=seed,
        timing=cfg.timing,
        progress=epoch_done,
    )
    det.cfg = LSTMConfig.from_dict({**cfg.to_dict(), "mode": cfg.mode})
    det.save(out)
    return {"trained": True, "chunks": table.height // cfg.chunk, "epoch_scores": per_epoch}
