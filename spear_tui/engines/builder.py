"""Builds a ready-to-run PacketEngine from command-line choices (files or interface, models, seed).

Shared by `scan`, `replay`, `live` and the demo, so all of them run the same detectors the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spear_tui.detect.lstm.views import checkpoint_name, lstm_views, view_config
from spear_tui.engines.outbox import Sink
from spear_tui.engines.packet import PacketEngine
from spear_tui.protocols.schema import PROTOCOLS

REPO_ROOT = Path(__file__).resolve().parents[2]


def models_dir() -> Path:
    """Shipped checkpoints: $SPEAR_TUI_MODELS, else `models/` beside the package."""
    return Path(os.environ.get("SPEAR_TUI_MODELS", REPO_ROOT / "models"))


def samples_dir() -> Path:
    return REPO_ROOT / "sample_captures"


@dataclass
class DetectorChoice:
    lstm: bool = True
    novelty: bool = True
    seed: int = 0
    models: Path | None = None  # a directory of checkpoints, or None for the shipped ones
    sensitivity: float | None = None
    protocols: Sequence[str] = field(default_factory=lambda: PROTOCOLS)
    # Site profiles (issue 16; spear_tui/site/, resolved in commands/_options.py): `learn` starts every
    # detector untrained with its learning period (no site for this network); `site` is the Site whose
    # accepted-as-normal rows join its novelty baselines (`models` is then the site's folder).
    learn: bool = False
    site: Any = None


def lstm_checkpoint(protocol: str, models: Path | None = None, view: str = "lstm") -> Path | None:
    """The view's checkpoint in the models directory (None: the detector starts untrained)."""
    path = (models or models_dir()) / checkpoint_name(protocol, view)
    return path if path.is_file() else None


def novelty_baseline(protocol: str, models: Path | None = None) -> Path | None:
    """`<protocol>_novelty.msgpack` (None: the novelty rules learn from the start of the traffic)."""
    path = (models or models_dir()) / f"{protocol}_novelty.msgpack"
    return path if path.is_file() else None


def build_detectors(choice: DetectorChoice) -> dict[str, list]:
    detectors: dict[str, list] = {p: [] for p in choice.protocols}
    for protocol in choice.protocols:
        if choice.lstm:
            from spear_tui.detect.lstm.online import OnlineLSTMDetector
            from spear_tui.detect.lstm.shared_views import SharedViews

            shared = SharedViews()  # the protocol's views make their common per-message arrays once
            for view in lstm_views(protocol):
                ckpt = None if choice.learn else lstm_checkpoint(protocol, choice.models, view)
                if view != "lstm" and ckpt is None and not choice.learn:
                    continue  # an extra view runs from its checkpoint (or learns from scratch)
                det = OnlineLSTMDetector(
                    protocol, view_config(view), seed=choice.seed, checkpoint=ckpt, name=view, shared=shared
                )
                if choice.sensitivity is not None:
                    det.sensitivity = choice.sensitivity
                detectors[protocol].append(det)
        if choice.novelty:
            from spear_tui.detect.novelty import NoveltyDetector

            base = None if choice.learn else novelty_baseline(protocol, choice.models)
            nov = NoveltyDetector(protocol, baseline=base)
            if choice.site is not None:
                from spear_tui.site.accept import apply_accepted

                apply_accepted(choice.site, nov)
            detectors[protocol].append(nov)
    return detectors


def open_source(
    paths: Sequence[str | Path] = (),
    interface: str | None = None,
    bpf: str | None = None,
    decode_as: Sequence[str] = (),
    choice: DetectorChoice | None = None,
):
    """A capture or interface source; with the LSTMs in `choice`, a file's tshark workers leave them a
    core unless the capture shows tshark is the slower part (`capture.segments.SegmentSplit`)."""
    from spear_tui.capture.source import open_capture_files, open_interface

    if interface:
        return open_interface(interface, bpf=bpf, decode_as=decode_as)
    reserve = 1 if choice is not None and choice.lstm else 0
    return open_capture_files(paths, decode_as=decode_as, reserve_cores=reserve)


def build_engine(
    source,
    choice: DetectorChoice | None = None,
    *,
    speed: float | None = None,
    sinks: Iterable[Sink] = (),
    decode_as: Sequence[str] = (),
    max_idle: float | None = None,
    detectors: dict[str, list] | None = None,
) -> PacketEngine:
    """`detectors`: already built from `choice` (build them before opening the source, and the LSTMs'
    background warm-up overlaps capinfos and tshark's start too)."""
    return PacketEngine(
        source,
        detectors if detectors is not None else build_detectors(choice or DetectorChoice()),
        speed=speed,
        sinks=sinks,
        decode_as=decode_as,
        max_idle=max_idle,
    )
