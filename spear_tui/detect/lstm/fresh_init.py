"""A fresh stacked LSTM's initial weights, made once per process and kept on disk next to JAX's
compilation cache.

Why: flax initialises the net op by op (orthogonal recurrent kernels, truncated normals), ~0.6 CPU-s
in every new process that learns a capture of no known site, while nothing else that process does
before its first chunk needs that CPU more. Jitting the initialisation gives the same bits but costs
~3 s to compile and ~0.5 s on a cache hit, so the weights themselves are cached instead: the output
of the same function of the same (architecture, seed), keyed by the JAX and Flax versions that made
it. A missing, unreadable or mis-sized file is made again (and rewritten atomically); the run's
results never depend on whether the file existed (tested).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_FRESH: dict[tuple, Any] = {}  # JAX arrays are immutable: every net of one key shares its start
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """SPEAR_TUI_INIT_CACHE, else `lstm-init` beside JAX's compilation cache (~/.cache/spear-tui/)."""
    if os.environ.get("SPEAR_TUI_INIT_CACHE"):
        return Path(os.environ["SPEAR_TUI_INIT_CACHE"])
    jax_cache = os.environ.get("SPEAR_TUI_JAX_CACHE", os.path.expanduser("~/.cache/spear-tui/jax"))
    return Path(jax_cache).parent / "lstm-init"


def _file(cfg: Any, seed: int) -> Path:
    from importlib.metadata import version  # not `import flax`: a cache hit must not pay for Flax

    arch = f"lstm-l{cfg.layers}-u{cfg.units}-f{cfg.features}-seed{seed}"
    return cache_dir() / f"{arch}-jax{version('jax')}-flax{version('flax')}.npy"


def _size(cfg: Any) -> int:
    import jax

    from spear_tui.detect.lstm.lstm_shapes import zero_params

    return sum(int(np.asarray(v).size) for v in jax.tree.leaves(zero_params(cfg)))


def _make(cfg: Any, seed: int) -> np.ndarray:
    """What `StackedLSTM(cfg, seed)` starts from, computed: flax's initialisation, ravelled."""
    from flax import nnx
    from jax.flatten_util import ravel_pytree

    from spear_tui.detect.lstm.stacked_lstm import _build_model

    return np.asarray(ravel_pytree(nnx.split(_build_model(cfg, seed), nnx.Param)[1].to_pure_dict())[0])


def _load(path: Path, size: int) -> np.ndarray | None:
    try:
        flat = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if flat.dtype != np.float32 or flat.shape != (size,) or not np.isfinite(flat).all():
        return None
    return flat


def _store(path: Path, flat: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, flat, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:  # a read-only home: the next process initialises again, nothing else changes
        log.debug("could not cache fresh LSTM weights at %s", path, exc_info=True)


def fresh_params(cfg: Any, seed: int):
    """A fresh net's weights from `seed` as one flat float32 JAX vector (flax's initialisation)."""
    import jax.numpy as jnp

    key = (cfg.layers, cfg.units, cfg.features, seed)
    with _LOCK:
        if key not in _FRESH:
            path = _file(cfg, seed)
            flat = _load(path, _size(cfg))
            if flat is None:
                flat = _make(cfg, seed)
                _store(path, flat)
            _FRESH[key] = jnp.asarray(flat)
        return _FRESH[key]
