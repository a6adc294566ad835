"""JAX's start-up for the stacked LSTM, in the background: imports, the nets' shared structure, the
compiled group program. Started when a detector is created, so it overlaps capinfos, tshark's start
and the first batches; a detector waits for it only when it needs its net sooner."""

from __future__ import annotations

import logging
import threading

from spear_tui.detect.lstm.fresh_init import fresh_params
from spear_tui.detect.lstm.lstm_shapes import zero_params
from spear_tui.detect.lstm.stacked_lstm import LSTMConfig, StackedLSTM, _program_key

log = logging.getLogger(__name__)

_WARM_UPS: dict[tuple, threading.Thread] = {}
_WARM_LOCK = threading.Lock()


def start_warm_up(cfg: LSTMConfig, fresh: bool = False, seed: int = 0) -> threading.Thread:
    """Import JAX/Flax/optax and compile `cfg`'s group program in a background thread, once per
    process and config; with `fresh`, also make the fresh net's initial weights from `seed`
    (`fresh_params`: the net built on the first chunk takes them instead of initialising again).
    Started when a detector is created, so all this overlaps tshark's start and the first batches;
    the detector waits for it only if it needs its net sooner."""
    key = (*_program_key(cfg), fresh, seed if fresh else None)
    with _WARM_LOCK:
        thread = _WARM_UPS.get(key)
        if thread is None:
            # Not a daemon: the interpreter must not exit while XLA compiles in it (that aborts the
            # process: "terminate called ... exception not rethrown"); a short run waits for it.
            thread = threading.Thread(target=_warm_up, args=(cfg, fresh, seed), name="lstm-warm-up")
            _WARM_UPS[key] = thread
            thread.start()
    return thread


def _warm_up(cfg: LSTMConfig, fresh: bool, seed: int) -> None:
    try:
        zeros = zero_params(cfg)
        StackedLSTM(cfg, 0, state={"params": zeros}).compile()
        if fresh:
            fresh_params(cfg, seed)
    except Exception:  # the detector builds its own net later and reports any error then
        log.debug("LSTM warm-up failed", exc_info=True)
