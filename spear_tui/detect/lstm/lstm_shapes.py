"""The stacked LSTM's weight shapes, worked out without importing JAX.

A checkpoint is checked against them when a detector is created, before its net is built (the net
waits for JAX's background warm-up); all-zero weights of these shapes are enough to compile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spear_tui.detect.lstm.stacked_lstm import LSTMConfig


def param_shapes(cfg: LSTMConfig) -> dict[str, Any]:
    """The weights' nested shapes, as `_build_model` makes them, worked out without importing JAX:
    a checkpoint is checked against them when a detector is created, before its net is built."""
    gates = 4 * cfg.units
    cells = {
        i: {
            "dense_i": {"kernel": (cfg.features if i == 0 else cfg.units, gates)},
            "dense_h": {"kernel": (cfg.units, gates), "bias": (gates,)},
        }
        for i in range(cfg.layers)
    }
    return {"cells": cells, "out": {"kernel": (cfg.units, cfg.features), "bias": (cfg.features,)}}


def params_fit(cfg: LSTMConfig, params: Any) -> bool:
    """True if a checkpoint's (msgpack, string-keyed) weights have exactly the shapes `cfg` builds."""

    def fits(ref: Any, saved: Any) -> bool:
        if isinstance(ref, dict):
            if not isinstance(saved, dict) or len(saved) != len(ref):
                return False
            keys = {str(k) for k in saved}
            return all(str(k) in keys and fits(v, saved.get(str(k), saved.get(k))) for k, v in ref.items())
        return tuple(np.shape(saved)) == ref

    return fits(param_shapes(cfg), params)


def zero_params(cfg: LSTMConfig) -> dict[str, Any]:
    """All-zero weights of `cfg`'s shapes (numpy): enough to compile the chunk program."""

    def zeros(ref: Any) -> Any:
        if isinstance(ref, dict):
            return {str(k): zeros(v) for k, v in ref.items()}
        return np.zeros(ref, np.float32)

    return zeros(param_shapes(cfg))
