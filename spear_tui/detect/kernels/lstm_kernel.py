"""One LSTM layer over a whole sequence, laid out batch-last, with a hand-written backward pass.

Why: both detectors are small LSTMs (10-32 units) on one CPU core, where the cost is the loop over
time steps. With flax's layout, (batch, units), the innermost axis is 10-40 floats and XLA's CPU
code barely vectorises; here the state is (units, batch), so the innermost axis is the batch (50-128)
and every gate is a contiguous row block. The backward loop does only what must be sequential (one
(U, 4U) x (4U, B) matmul and five products, reading one residual block per step: the forward pass
saves the gate derivatives already multiplied out); the weight and input gradients come after the
loop, for all steps at once (the weight gradient as one product per step batched over time). What
each of these choices gained: BENCHMARKS.md "lstm_kernel: batch-last layout and backward pass".

Gate order i, f, g, o and zero initial state: the same function as flax's `OptimizedLSTMCell` scanned
over time and as PyTorch's `nn.LSTM` (tests compare values and gradients with the flax formulation).

`lstm_layer` runs the two time loops as native calls (`lstm_native`, built by `make`) when they are
available, and as the JAX loops below otherwise; what surrounds them is the same JAX code. The first
trace in a process logs which (at INFO, with the reason for a fallback), so a slow run's log says
whether `make` built the native loops.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import jax
import jax.numpy as jnp

from spear_tui.detect.kernels import lstm_native

log = logging.getLogger(__name__)
_ANNOUNCED = False
_ANNOUNCE_LOCK = threading.Lock()

SMALL_UNITS = 16  # layers up to this width take one matmul per training step (see _forward)

# XLA options for the programs that run the JAX loops (jit(..., compiler_options=...); option names
# are jaxlib 0.10's), each the faster one in A/Bs with identical outputs:
# - training: XLA's older loop-fusion emitter compiles these tiny per-step fusions into faster code
#   than the default MLIR emitters; scoring (`_primal` alone) is slower with it, so not there;
# - scoring: 512-bit vectors (AVX-512; ignored where the CPU has none).
# With the native loops what is left for XLA gains nothing from them, so those programs use XLA's
# defaults. Figures: BENCHMARKS.md "lstm_kernel: XLA compiler options for the JAX loops".
JAX_LOOP_TRAINING_OPTIONS: dict[str, object] = {"xla_cpu_use_fusion_emitters": False}
JAX_LOOP_SCORING_OPTIONS: dict[str, object] = {"xla_cpu_prefer_vector_width": 512}
_NATIVE = lstm_native.UNAVAILABLE is None
TRAINING_COMPILER_OPTIONS: dict[str, object] = {} if _NATIVE else JAX_LOOP_TRAINING_OPTIONS
SCORING_COMPILER_OPTIONS: dict[str, object] = {} if _NATIVE else JAX_LOOP_SCORING_OPTIONS


def _forward(x: Any, wi: Any, wh: Any, b: Any) -> tuple[Any, Any]:
    """x: (T, F, B). Returns (h sequence (T, U, B), residuals for the backward pass: per step
    dc/dh, the four dz/dc factors, and f).

    Small layers (U <= SMALL_UNITS) take one matmul per step on [x_t; h], faster for the stacked
    LSTM's 10 units; for the seq2seq's 32 units two matmuls were faster with XLA's default emitters
    and one matmul barely different with TRAINING_COMPILER_OPTIONS, so they keep two
    (BENCHMARKS.md "lstm_kernel: batch-last layout and backward pass")."""
    u = wh.shape[0]
    bias = b[:, None]
    small = u <= SMALL_UNITS
    w_t = jnp.concatenate([wi, wh], 0).T if small else None
    # transposed outside the step: written inside it, XLA transposed the weights again at every step
    wi_t, wh_t = (None, None) if small else (wi.T, wh.T)
    zeros = jnp.zeros((u, x.shape[2]), x.dtype)

    def step(carry: Any, x_t: Any) -> tuple[Any, Any]:
        c_prev, h = carry
        if small:
            assert w_t is not None  # built above for small layers
            z = w_t @ jnp.concatenate([x_t, h], 0) + bias
        else:
            z = wi_t @ x_t + wh_t @ h + bias
        i = jax.nn.sigmoid(z[:u])
        f = jax.nn.sigmoid(z[u : 2 * u])
        g = jnp.tanh(z[2 * u : 3 * u])
        o = jax.nn.sigmoid(z[3 * u :])
        c = f * c_prev + i * g
        tc = jnp.tanh(c)
        h = o * tc
        coef = jnp.concatenate(
            [o * (1.0 - tc * tc), g * i * (1.0 - i), c_prev * f * (1.0 - f), i * (1.0 - g * g),
             tc * o * (1.0 - o), f], 0)
        return (c, h), (h, coef)

    _, (hs, res) = jax.lax.scan(step, (zeros, zeros), x)
    return hs, (x, wi, wh, hs, res)


def _primal(x: Any, wi: Any, wh: Any, b: Any) -> Any:
    """The same function without residuals (scoring): one (4U, F+U) x (F+U, B) matmul per step on
    [x_t; h]: with XLA's default emitters faster than two matmuls, and faster than hoisting the input
    projection out of the loop (in training too); with SCORING_COMPILER_OPTIONS one and two matmuls
    are the same (BENCHMARKS.md "lstm_kernel: batch-last layout and backward pass")."""
    u = wh.shape[0]
    w_t, bias = jnp.concatenate([wi, wh], 0).T, b[:, None]
    zeros = jnp.zeros((u, x.shape[2]), x.dtype)

    def step(carry: Any, x_t: Any) -> tuple[Any, Any]:
        c_prev, h = carry
        z = w_t @ jnp.concatenate([x_t, h], 0) + bias
        c = jax.nn.sigmoid(z[u : 2 * u]) * c_prev + jax.nn.sigmoid(z[:u]) * jnp.tanh(z[2 * u : 3 * u])
        h = jax.nn.sigmoid(z[3 * u :]) * jnp.tanh(c)
        return (c, h), h

    return jax.lax.scan(step, (zeros, zeros), x)[1]


def lstm_layer(x: Any, wi: Any, wh: Any, b: Any) -> Any:
    """h_t for every t; x: (T, F, B) batch-last, wi: (F, 4U), wh: (U, 4U), b: (4U,) -> (T, U, B)."""
    announce_kernel()
    if _NATIVE:
        return lstm_native.lstm_layer(x, wi, wh, b)
    return jax_lstm_layer(x, wi, wh, b)


def kernel_name() -> str:
    """Which time loops `lstm_layer` runs, for benchmarks and logs: "native" or "jax (why)"."""
    if not _NATIVE:
        return f"jax ({lstm_native.UNAVAILABLE})"
    return "native, batch split over 2 threads" if lstm_native.splitting() else "native, one thread"


def announce_kernel() -> bool:
    """Log once per process which time loops run (True when this call logged it). Called at trace
    time, so once per compiled program at most, never per step."""
    global _ANNOUNCED
    with _ANNOUNCE_LOCK:
        if _ANNOUNCED:
            return False
        _ANNOUNCED = True
    if _NATIVE:
        threads = "batch split over 2 threads" if lstm_native.splitting() else "one thread"
        log.info("LSTM kernel: native C++ time loops from %s (%s)", lstm_native.LIBRARY, threads)
    else:
        log.info("LSTM kernel: JAX time loops, the fallback: %s", lstm_native.UNAVAILABLE)
    return True


@jax.custom_vjp
def jax_lstm_layer(x: Any, wi: Any, wh: Any, b: Any) -> Any:
    """`lstm_layer` with the time loops in JAX (the fallback, and the native kernel's reference)."""
    return _primal(x, wi, wh, b)


def _backward(saved: Any, dhs: Any) -> tuple[Any, Any, Any, Any]:
    x, wi, wh, hs, res = saved
    u = wh.shape[0]
    zeros = jnp.zeros_like(hs[0])

    def step(carry: Any, inp: Any) -> tuple[Any, Any]:
        dh_next, dc_next = carry  # what step t+1 sends back into h_t and c_t
        dh_out, r = inp
        a, gi, gf, gg, go, f = (r[k * u : (k + 1) * u] for k in range(6))
        dh = dh_out + dh_next
        dc = dc_next + dh * a
        dz = jnp.concatenate([dc * gi, dc * gf, dc * gg, dh * go], 0)
        return (wh @ dz, dc * f), dz

    _, dzs = jax.lax.scan(step, (zeros, zeros), (dhs, res), reverse=True)
    return parameter_gradients(x, wi, hs, dzs)


def parameter_gradients(x: Any, wi: Any, hs: Any, dzs: Any) -> tuple[Any, Any, Any, Any]:
    """(dx, dwi, dwh, db) from every step's gate gradient dz_t, all steps at once.

    The weight gradient is one (F+U+1, B) x (B, 4U) product per step on [x_t; h_(t-1); 1], batched
    over time and summed: no transposed copies of the sequences (faster than transposing to (., T*B)
    for one matmul), and the row of ones gives db from the same product (faster than a separate sum
    over time and batch; BENCHMARKS.md "lstm_kernel: batch-last layout and backward pass")."""
    t, f, bsz = x.shape
    u = hs.shape[1]
    shifted = jnp.concatenate([jnp.zeros((1, u, bsz), hs.dtype), hs[:-1]], 0)
    cat = jnp.concatenate([x, shifted, jnp.ones((t, 1, bsz), x.dtype)], 1)
    dw = jnp.sum(jnp.einsum("tkb,tgb->tkg", cat, dzs), 0)
    dx = jnp.einsum("kg,tgb->tkb", wi, dzs)
    return dx, dw[:f], dw[f : f + u], dw[f + u]


jax_lstm_layer.defvjp(_forward, _backward)
