"""The LSTM layer's time loops as native XLA FFI calls (`lstm_native.cc`), when they are built.

Why: XLA runs the loop over time steps as about a dozen small kernels per step; one native call per
sequence, with each step's matmul register-blocked and the gates fused after it, takes less time for
both nets' training and scoring. The backward call also returns the layer's weight and input gradients
(XLA's small products over the steps cost more than the loop). Everything around the layers (Adam, the
losses) stays in the jitted JAX program. A big enough call splits its batch over two of XLA's pool
threads (`split_columns`), which shortens it again at default threads. Figures: BENCHMARKS.md
"lstm_native: the time loops as native calls" and "Seq2seq".

The library is built by `make` (`Makefile`, g++ -O3 -march=native: it is a build product of this
machine, like `.venv`). Without it, or with SPEAR_LSTM_KERNEL=jax, `lstm_kernel` uses its JAX loops:
the same function, which the tests compare this one with.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

LIBRARY = Path(__file__).with_name("_lstm_native.so")
VECTOR = 16  # floats per vector in the library: the residuals' batch axis is padded to a multiple
_TARGETS = ("SpearLstmForwardTrain", "SpearLstmForward", "SpearLstmBackward", "SpearLstmGrads")
# Layers up to this width get their weight and input gradients from the native backward call; wider
# ones from XLA (the stacked LSTM's 10 units: chunk 0.95 -> 0.85 ms; the seq2seq's 32 units over 96
# steps: an epoch 1.2x slower native, BENCHMARKS.md "lstm_native: the time loops as native calls").
NATIVE_GRADS_MAX_UNITS = 16


def _load() -> str | None:
    """Register the FFI targets; returns why not, or None when they are ready."""
    if os.environ.get("SPEAR_LSTM_KERNEL", "").lower() == "jax":
        return "SPEAR_LSTM_KERNEL=jax"
    if not LIBRARY.exists():
        return f"{LIBRARY.name} is not built (run make)"
    source = Path(__file__).with_name("lstm_native.cc")
    if source.exists() and LIBRARY.stat().st_mtime < source.stat().st_mtime:
        return f"{LIBRARY.name} is older than lstm_native.cc (run make)"
    global _LIB
    try:
        lib = ctypes.cdll.LoadLibrary(str(LIBRARY))
        for name in _TARGETS:
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(lib, name)), platform="cpu")
        lib.spear_lstm_split_calls.restype = ctypes.c_int64
        lib.spear_lstm_set_split.argtypes = [ctypes.c_int]
    except (OSError, AttributeError) as exc:
        return f"{LIBRARY.name} could not be loaded ({exc})"
    _LIB = lib
    split_columns(_split_by_default())
    return None


_LIB: Any = None
_SPLIT = False


def _split_by_default() -> bool:
    """Two threads per call unless asked for one: SPEAR_LSTM_THREADS=1, or XLA told to keep its
    matmuls on one thread (the benches' one-thread comparisons), which the pool size alone does not
    show: XLA's pool keeps every core's thread either way."""
    if os.environ.get("SPEAR_LSTM_THREADS", "").strip() == "1":
        return False
    return "--xla_cpu_multi_thread_eigen=false" not in os.environ.get("XLA_FLAGS", "")


def split_columns(on: bool) -> None:
    """Let a call run the two halves of its batch on two of XLA's pool threads (when it has them and
    the call is big enough). The results are the same bits either way; takes effect on the next call."""
    global _SPLIT
    if _LIB is not None:
        _LIB.spear_lstm_set_split(int(on))
        _SPLIT = on


def splitting() -> bool:
    """Whether calls may run on two threads (see `split_columns`)."""
    return _LIB is not None and _SPLIT


def split_calls() -> int:
    """Calls that split their batch since the library was loaded: the second half offered to a pool
    thread (the calling thread runs it itself when no pool thread has started it)."""
    return int(_LIB.spear_lstm_split_calls()) if _LIB is not None else 0


UNAVAILABLE = _load()  # None when the native kernel is in use


def _f32(*shape: int) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, jnp.float32)


def padded(b: int) -> int:
    """b rounded up to whole vectors: the residuals' batch axis, and what a batch of b costs."""
    return -(-b // VECTOR) * VECTOR


def _primal(x: Any, wi: Any, wh: Any, b: Any) -> Any:
    t, _, bsz = x.shape
    return jax.ffi.ffi_call("SpearLstmForward", _f32(t, wh.shape[0], bsz))(x, wi, wh, b)


def _forward(x: Any, wi: Any, wh: Any, b: Any) -> tuple[Any, Any]:
    t, _, bsz = x.shape
    u = wh.shape[0]
    out = (_f32(t, u, bsz), _f32(t, 6 * u, padded(bsz)))
    hs, res = jax.ffi.ffi_call("SpearLstmForwardTrain", out)(x, wi, wh, b)
    return hs, (x, wi, wh, hs, res)


def _backward(saved: Any, dhs: Any) -> tuple[Any, Any, Any, Any]:
    """dz through time natively; the weight and input gradients in the same call for narrow layers, by
    XLA's matmuls over all steps for wide ones (`NATIVE_GRADS_MAX_UNITS`)."""
    from spear_tui.detect.kernels.lstm_kernel import parameter_gradients

    x, wi, wh, hs, res = saved
    t, u, bsz = dhs.shape
    if u <= NATIVE_GRADS_MAX_UNITS:
        out = (_f32(*x.shape), _f32(*wi.shape), _f32(*wh.shape), _f32(4 * u))
        dx, dwi, dwh, db = jax.ffi.ffi_call("SpearLstmGrads", out)(dhs, res, wh, wi, x, hs)
        return dx, dwi, dwh, db
    dzs = jax.ffi.ffi_call("SpearLstmBackward", _f32(t, 4 * u, bsz))(dhs, res, wh)
    return parameter_gradients(x, wi, hs, dzs)


@jax.custom_vjp
def lstm_layer(x: Any, wi: Any, wh: Any, b: Any) -> Any:
    """As `lstm_kernel.jax_lstm_layer`: x (T, F, B) float32, wi (F, 4U), wh (U, 4U), b (4U,)."""
    return _primal(x, wi, wh, b)


lstm_layer.defvjp(_forward, _backward)
