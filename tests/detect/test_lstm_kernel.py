"""The batch-last LSTM layer with its hand-written backward pass, against independent formulations."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from spear_tui.detect.lstm_kernel import lstm_layer  # noqa: E402


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


def test_two_stacked_layers_match_a_numpy_lstm():
    rng = np.random.default_rng(0)
    t, b, din, h = 7, 3, 2, 5
    l1, l2 = _weights(rng, din, h), _weights(rng, h, h)
    x = rng.standard_normal((t, b, din)).astype(np.float32)
    got = lstm_layer(lstm_layer(_batch_last(x), *map(jnp.asarray, l1)), *map(jnp.asarray, l2))
    want = _numpy_lstm(_numpy_lstm(x, *l1), *l2)
    np.testing.assert_allclose(np.asarray(jnp.transpose(got, (0, 2, 1))), want, atol=1e-5)


@pytest.mark.parametrize("t,b,din,h", [(10, 50, 2, 10), (12, 4, 3, 32)])
def test_gradients_equal_jax_differentiating_the_scan_itself(t, b, din, h):
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


def test_scoring_path_equals_the_training_forward():
    """Scoring runs `_primal` (one matmul on [x_t; h]); training runs `_forward` (two matmuls, saving
    residuals). Both must be the same function."""
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
