"""The batch-last LSTM layer with its hand-written backward pass, against independent formulations:
both implementations of its time loops (JAX, and the native FFI calls when built)."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from spear_tui.detect.kernels import lstm_kernel, lstm_native  # noqa: E402

needs_native = pytest.mark.skipif(
    lstm_native.UNAVAILABLE is not None, reason=f"native LSTM kernel unavailable: {lstm_native.UNAVAILABLE}"
)


@pytest.fixture(params=["jax", pytest.param("native", marks=needs_native)])
def lstm_layer(request):
    return lstm_native.lstm_layer if request.param == "native" else lstm_kernel.jax_lstm_layer


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _numpy_lstm(x, wi, wh, b):
    """A textbook LSTM (PyTorch's equations, gates i, f, g, o), time-major (T, B, F), in numpy."""
    h = wh.shape[0]
    hs, cs, out = np.zeros((x.shape[1], h)), np.zeros((x.shape[1], h)), []
    for xt in x:
        z = xt @ wi + hs @ wh + b
        i, f, g, o = _sig(z[:, :h]), _sig(z[:, h:2 * h]), np.tanh(z[:, 2 * h:3 * h]), _sig(z[:, 3 * h:])
        cs = f * cs + i * g
        hs = o * np.tanh(cs)
        out.append(hs)
    return np.stack(out)


def _scanned_lstm(x, wi, wh, b):
    """The same LSTM as a plain `lax.scan` in the (B, U) layout, differentiated by JAX itself."""
    h = wh.shape[0]

    def step(carry, xt):
        c, hp = carry
        z = xt @ wi + hp @ wh + b
        i, f = jax.nn.sigmoid(z[:, :h]), jax.nn.sigmoid(z[:, h:2 * h])
        g, o = jnp.tanh(z[:, 2 * h:3 * h]), jax.nn.sigmoid(z[:, 3 * h:])
        c = f * c + i * g
        hn = o * jnp.tanh(c)
        return (c, hn), hn

    zeros = jnp.zeros((x.shape[1], h), x.dtype)
    return jax.lax.scan(step, (zeros, zeros), x)[1]


def _weights(rng, din, h):
    return [rng.standard_normal(s).astype(np.float32) * 0.5 for s in [(din, 4 * h), (h, 4 * h), (4 * h,)]]


def _batch_last(x):
    return jnp.transpose(jnp.asarray(x), (0, 2, 1))


def test_two_stacked_layers_match_a_numpy_lstm(lstm_layer):
    rng = np.random.default_rng(0)
    t, b, din, h = 7, 3, 2, 5
    l1, l2 = _weights(rng, din, h), _weights(rng, h, h)
    x = rng.standard_normal((t, b, din)).astype(np.float32)
    got = lstm_layer(lstm_layer(_batch_last(x), *map(jnp.asarray, l1)), *map(jnp.asarray, l2))
    want = _numpy_lstm(_numpy_lstm(x, *l1), *l2)
    np.testing.assert_allclose(np.asarray(jnp.transpose(got, (0, 2, 1))), want, atol=1e-5)


@pytest.mark.parametrize("t,b,din,h", [(10, 50, 2, 10), (12, 4, 3, 32)])
def test_gradients_equal_jax_differentiating_the_scan_itself(lstm_layer, t, b, din, h):
    rng = np.random.default_rng(1)
    l1, l2 = _weights(rng, din, h), _weights(rng, h, h)
    x = rng.standard_normal((t, b, din)).astype(np.float32)
    target = rng.standard_normal((t, b, h)).astype(np.float32)

    def ours(x, l1, l2):
        out = lstm_layer(lstm_layer(_batch_last(x), *l1), *l2)
        return jnp.mean((jnp.transpose(out, (0, 2, 1)) - target) ** 2)

    def reference(x, l1, l2):
        return jnp.mean((_scanned_lstm(_scanned_lstm(x, *l1), *l2) - target) ** 2)

    args = (jnp.asarray(x), tuple(map(jnp.asarray, l1)), tuple(map(jnp.asarray, l2)))
    got = jax.grad(ours, argnums=(0, 1, 2))(*args)
    want = jax.grad(reference, argnums=(0, 1, 2))(*args)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-6)


def test_scoring_path_equals_the_training_forward(lstm_layer):
    """Scoring runs the primal (no residuals); training runs the forward that saves residuals. Both
    must be the same function."""
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.standard_normal((9, 3, 6)).astype(np.float32))  # (T, F, B)
    w = tuple(map(jnp.asarray, _weights(rng, 3, 8)))
    scored = lstm_layer(x, *w)
    trained, _ = jax.vjp(lstm_layer, x, *w)
    np.testing.assert_allclose(np.asarray(scored), np.asarray(trained), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(scored), np.transpose(_numpy_lstm(np.transpose(np.asarray(x), (0, 2, 1)), *w), (0, 2, 1)),
        atol=1e-5,
    )


@needs_native
@pytest.mark.parametrize("t,b,din,h", [(96, 25, 1, 32), (96, 100, 10, 32), (96, 128, 32, 32), (10, 50, 2, 10),
                                       (5, 16, 3, 4), (6, 33, 10, 10), (3, 1, 1, 1)])
def test_native_loops_equal_the_jax_loops(t, b, din, h):
    """The detectors' shapes (and batch sizes around the native kernel's 16-float vectors): the
    native calls give the JAX loops' values and gradients, up to float rounding."""
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.standard_normal((t, din, b)).astype(np.float32))
    w = tuple(map(jnp.asarray, _weights(rng, din, h)))
    target = jnp.asarray(rng.standard_normal((t, h, b)).astype(np.float32))
    want = lstm_kernel.jax_lstm_layer(x, *w)
    got = jax.jit(lstm_native.lstm_layer)(x, *w)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=2e-6)

    def loss(layer, x, *w):
        return jnp.mean((layer(x, *w) - target) ** 2)

    got = jax.jit(jax.grad(lambda *a: loss(lstm_native.lstm_layer, *a), argnums=(0, 1, 2, 3)))(x, *w)
    ref = jax.jit(jax.grad(lambda *a: loss(lstm_kernel.jax_lstm_layer, *a), argnums=(0, 1, 2, 3)))(x, *w)
    for g, r in zip(got, ref, strict=True):
        scale = float(jnp.max(jnp.abs(r)))
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), atol=1e-5 * max(scale, 1e-3))


@needs_native
def test_lstm_layer_runs_the_native_loops_when_they_are_built():
    x = jnp.ones((4, 2, 3), jnp.float32)
    w = (jnp.ones((2, 8)), jnp.ones((2, 8)), jnp.zeros(8))
    assert "SpearLstmForward" in jax.jit(lstm_kernel.lstm_layer).lower(x, *w).as_text()
    assert lstm_kernel.kernel_name().startswith("native")


@needs_native
def test_native_loops_keep_nan_and_saturate_like_the_jax_loops():
    """A NaN input stays NaN (the native nonlinearities clamp their input, never over a NaN) and
    huge pre-activations saturate instead of overflowing."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 2, 20)).astype(np.float32)
    x[2, 0, 3] = np.nan
    x[:, 1, 7] = 1e30
    w = tuple(map(jnp.asarray, _weights(rng, 2, 5)))
    got = np.asarray(lstm_native.lstm_layer(jnp.asarray(x), *w))
    want = np.asarray(lstm_kernel.jax_lstm_layer(jnp.asarray(x), *w))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[2:, :, 3]).all() and not np.isnan(got[:, :, 7]).any()
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=2e-6)


@needs_native
@pytest.mark.parametrize(
    "b,h,calls",
    [
        (100, 32, 3),  # 7 vector columns split 4 + 3, a partial last one; XLA's weight gradients
        (25, 32, 3),  # 2 columns split 1 + 1
        (100, 10, 4),  # narrow: the native call's weight gradients split by rows too
    ],
)
def test_splitting_the_batch_over_two_threads_changes_no_bit(b, h, calls):
    """Batch columns (and the weight gradients' rows) are independent, so the two-thread split must give
    the one-thread results exactly, forward and backward; the split counter shows the split really ran
    (and only when allowed)."""
    import os

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: XLA's pool has no second thread to split onto")
    rng = np.random.default_rng(5)
    t, din = 96, 10
    x = jnp.asarray(rng.standard_normal((t, din, b)), jnp.float32)
    w = tuple(map(jnp.asarray, _weights(rng, din, h)))
    forward = jax.jit(lstm_native.lstm_layer)
    grads = jax.jit(jax.grad(lambda *a: jnp.sum(lstm_native.lstm_layer(*a) ** 2), argnums=(0, 1, 2, 3)))
    was = lstm_native.splitting()
    try:
        results, splits = {}, {}
        for on in (False, True):
            lstm_native.split_columns(on)
            before = lstm_native.split_calls()
            results[on] = [np.asarray(forward(x, *w)), *(np.asarray(g) for g in grads(x, *w))]
            splits[on] = lstm_native.split_calls() - before
    finally:
        lstm_native.split_columns(was)
    # the forward, the training forward, the backward's time loop (and, narrow, its weight gradients)
    assert splits[False] == 0 and splits[True] == calls
    for one, two in zip(results[False], results[True], strict=True):
        np.testing.assert_array_equal(one, two)


@needs_native
@pytest.mark.parametrize(
    "env,split",
    [
        ({}, True),
        ({"SPEAR_LSTM_THREADS": "1"}, False),
        ({"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}, False),
    ],
)
def test_one_thread_settings_keep_the_native_calls_on_one_thread(env, split):
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k not in ("SPEAR_LSTM_THREADS", "XLA_FLAGS")}
    code = "from spear_tui.detect.kernels import lstm_kernel as k; print(k.kernel_name())"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ("native, batch split over 2 threads" if split else "native, one thread")


def test_which_kernel_runs_is_logged_once_per_process(caplog, monkeypatch):
    """The first trace logs the kernel at INFO (native, or the JAX fallback and why); later traces,
    of other shapes too, do not."""
    import logging

    monkeypatch.setattr(lstm_kernel, "_ANNOUNCED", False)
    caplog.set_level(logging.INFO, logger="spear_tui.detect.kernels")
    # listen on the logger itself: a CLI run earlier in this process (setup_logging) stops the package's
    # records from reaching the root logger, where caplog listens by default
    logger = logging.getLogger("spear_tui.detect.kernels.lstm_kernel")
    logger.addHandler(caplog.handler)
    monkeypatch.setattr(logger, "propagate", False)  # and only there: each record once
    try:
        for t, b in ((7, 5), (6, 5), (7, 5)):  # shapes no other test traces: the first call traces
            x = jnp.ones((t, 2, b), jnp.float32)
            jax.jit(lstm_kernel.lstm_layer)(x, jnp.ones((2, 8)), jnp.ones((2, 8)), jnp.zeros(8))
    finally:
        logger.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "spear_tui.detect.kernels.lstm_kernel"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    text = records[0].getMessage()
    if lstm_native.UNAVAILABLE is None:
        assert text.startswith(f"LSTM kernel: native C++ time loops from {lstm_native.LIBRARY} (")
    else:
        assert text == f"LSTM kernel: JAX time loops, the fallback: {lstm_native.UNAVAILABLE}"


def test_the_fallback_and_its_reason_reach_the_log_file(tmp_path):
    """In a fresh process told to use the JAX loops, the log file (set up as the CLI does) gets one
    line saying so and why, though the package logs only warnings otherwise."""
    import os
    import subprocess
    import sys

    code = (
        "import jax, jax.numpy as jnp, logging\n"
        "from spear_tui.logs import setup_logging\n"
        f"setup_logging(__import__('pathlib').Path({str(tmp_path / 'spear-tui.log')!r}))\n"
        "from spear_tui.detect.kernels import lstm_kernel as k\n"
        "for b in (3, 4):\n"
        "    jax.jit(k.lstm_layer)(jnp.ones((4, 2, b)), jnp.ones((2, 8)), jnp.ones((2, 8)), jnp.zeros(8))\n"
        "logging.getLogger('spear_tui.detect.lstm.online').info('not this one')\n"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "SPEAR_LSTM_KERNEL": "jax"}, check=True)
    lines = (tmp_path / "spear-tui.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        "INFO spear_tui.detect.kernels.lstm_kernel: "
        "LSTM kernel: JAX time loops, the fallback: SPEAR_LSTM_KERNEL=jax"
    )
