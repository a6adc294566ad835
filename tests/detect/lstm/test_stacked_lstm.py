"""The paper's network and its jitted chunk step: shape, determinism, learning, gate, mask."""

from __future__ import annotations

import numpy as np
import pytest

from spear_tui.detect.lstm.lstm_shapes import param_shapes, params_fit, zero_params
from spear_tui.detect.lstm.stacked_lstm import ChunkGroup, LSTMConfig, StackedLSTM, configure_xla

configure_xla()
CFG = LSTMConfig()


def _periodic(n: int = 501) -> np.ndarray:
    """A (type, length)-like sequence with period 4, already roughly normalised."""
    pattern = np.array([[1.0, 0.5], [-1.0, -0.5], [0.5, 1.0], [-0.5, -1.0]], np.float32)
    return np.tile(pattern, (n // 4 + 1, 1))[:n]


def _xy(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return seq[:-1].reshape(50, 10, 2), seq[1:].reshape(50, 10, 2)


@pytest.fixture(scope="module")
def model() -> StackedLSTM:
    m = StackedLSTM(CFG, seed=0)
    m.compile()
    return m


def test_architecture_is_six_lstm_layers_of_ten_units_and_a_dense_output(model):
    leaves = model.state_dict()["params"]
    cells = leaves["cells"]
    assert len(cells) == 6
    for i, cell in cells.items():
        fin = 2 if int(i) == 0 else 10
        assert cell["dense_i"]["kernel"].shape == (fin, 40)  # 4 gates x 10 units
        assert cell["dense_h"]["kernel"].shape == (10, 40)
        assert cell["dense_h"]["bias"].shape == (40,)
    assert leaves["out"]["kernel"].shape == (10, 2)
    total = sum(int(np.prod(a.shape)) for a in _leaves(leaves))
    # independent count: layer 0: 2*40 + 10*40 + 40; layers 1-5: 10*40 + 10*40 + 40; dense: 10*2 + 2
    assert total == (80 + 400 + 40) + 5 * (400 + 400 + 40) + 22


def _leaves(tree):
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _leaves(v)
    else:
        yield tree


def test_same_seed_same_weights_and_scores_different_seed_differs():
    x, y = _xy(_periodic())
    a, b, c = StackedLSTM(CFG, seed=7), StackedLSTM(CFG, seed=7), StackedLSTM(CFG, seed=8)
    ra = [a.run_chunk(x, y, 3) for _ in range(3)]
    rb = [b.run_chunk(x, y, 3) for _ in range(3)]
    assert ra == rb
    assert c.run_chunk(x, y, 3) != ra[0]


def test_score_is_the_loss_before_training_and_steps_zero_changes_nothing():
    x, y = _xy(_periodic())
    m = StackedLSTM(LSTMConfig(trim=0.0), seed=1)  # untrimmed: score and training loss are comparable
    before = m.state_dict()["params"]
    s0, a0 = m.run_chunk(x, y, 0)
    assert s0 == a0  # nothing trained: the training loss is the plain loss
    assert all(np.array_equal(p, q) for p, q in zip(_leaves(before), _leaves(m.state_dict()["params"]),
                                                     strict=True))
    s1, a1 = m.run_chunk(x, y, 1)
    assert s1 == s0 and a1 == s1  # scored with the untouched weights; one step saw exactly that loss
    s2, a2 = m.run_chunk(x, y, 5)
    assert s2 < s1  # the step on chunk 1 lowered the loss of the same data
    assert a2 < s2  # the training loss is the mean over the 5 steps, which kept lowering it


def test_trimmed_score_leaves_out_the_worst_messages_but_the_training_loss_does_not():
    x, y = _xy(_periodic())
    odd = y.copy()
    odd[0, 0] = 50.0  # one message the net cannot predict
    score, train_loss = StackedLSTM(CFG, seed=1).run_chunk(x, y, 1)
    score_odd, train_loss_odd = StackedLSTM(CFG, seed=1).run_chunk(x, odd, 1)
    assert CFG.trim > 0
    assert abs(score_odd - score) < 0.05 * score  # the robust score barely moves
    assert train_loss_odd > 2 * train_loss  # what the optimiser saw includes the odd message


def test_learns_a_periodic_sequence():
    x, y = _xy(_periodic())
    m = StackedLSTM(LSTMConfig(lr=1e-2, trim=0.0), seed=2)
    first, _ = m.run_chunk(x, y, 0)
    m.run_chunk(x, y, 300)
    later, _ = m.run_chunk(x, y, 0)
    # The deep 6x10 net sits on a plateau for 100-250 steps and then drops to ~0.1x; when it leaves
    # the plateau depends on float rounding (a kernel change moved 150 steps from 0.60x to 0.94x,
    # both reaching 0.07-0.09x by 300), so the test asks for the drop, not its timing.
    assert later < 0.3 * first


def test_gate_skips_training_on_a_chunk_scoring_above_it():
    x, y = _xy(_periodic())
    m = StackedLSTM(CFG, seed=3)
    before = m.state_dict()
    score, _ = m.run_chunk(x, y, 5, gate=0.0)  # any positive score is above the gate
    after = m.state_dict()
    assert all(np.array_equal(p, q) for p, q in zip(_leaves(before["params"]), _leaves(after["params"]),
                                                     strict=True))
    assert all(np.array_equal(p, q) for p, q in zip(before["opt_state"], after["opt_state"], strict=True))
    score2, _ = m.run_chunk(x, y, 5, gate=float("inf"))
    assert score2 == score  # still the untouched weights
    assert m.run_chunk(x, y, 0)[0] < score  # ...and this time it learned


def test_masked_targets_do_not_count():
    x, y = _xy(_periodic())
    mask = np.zeros((50, 10), np.float32)
    mask[:20] = 1.0
    m = StackedLSTM(CFG, seed=4)
    s1, _ = m.run_chunk(x, y, 0, mask)
    y2 = y.copy()
    y2[20:] = 100.0  # garbage in the padding
    s2, _ = m.run_chunk(x, y2, 0, mask)
    assert s1 == s2
    s3, _ = m.run_chunk(x, y2, 0)
    assert s3 > s1


def test_state_dict_round_trip_reproduces_scores():
    x, y = _xy(_periodic())
    a = StackedLSTM(CFG, seed=5)
    a.run_chunk(x, y, 4)
    b = StackedLSTM(CFG, seed=99)
    b.load_state_dict(a.state_dict())
    assert a.run_chunk(x, y, 2) == b.run_chunk(x, y, 2)  # weights and Adam moments both restored


def test_built_from_a_state_equals_built_then_loaded():
    """The checkpoint path builds only the structure (no random init): same weights, Adam state, scores."""
    x, y = _xy(_periodic())
    a = StackedLSTM(CFG, seed=5)
    a.run_chunk(x, y, 4)
    state = a.state_dict()
    loaded = StackedLSTM(CFG, seed=99)
    loaded.load_state_dict(state)
    built = StackedLSTM(CFG, seed=99, state=state)
    assert np.array_equal(np.asarray(built._flat), np.asarray(loaded._flat))
    for p, q in zip(built.state_dict()["opt_state"], loaded.state_dict()["opt_state"], strict=True):
        assert np.array_equal(p, q)
    assert built.run_chunk(x, y, 2) == loaded.run_chunk(x, y, 2)


@pytest.mark.parametrize("cfg", [CFG, LSTMConfig(layers=2, units=7, features=3, timing=True)])
def test_param_shapes_are_the_shapes_flax_builds(cfg):
    """Checkpoints are checked against param_shapes without JAX; it must follow the real network."""

    def shapes(tree, leaf=np.shape):
        if isinstance(tree, dict):
            return {str(k): shapes(v, leaf) for k, v in tree.items()}
        return tuple(leaf(tree))

    assert shapes(StackedLSTM(cfg, seed=0).params) == shapes(param_shapes(cfg), leaf=tuple)
    assert params_fit(cfg, zero_params(cfg))


def test_params_fit_refuses_other_shapes():
    zeros = zero_params(CFG)
    zeros["cells"]["3"]["dense_h"]["kernel"] = np.zeros((10, 41), np.float32)
    assert not params_fit(CFG, zeros)
    assert not params_fit(CFG, {"cells": zero_params(CFG)["cells"]})
    assert not params_fit(LSTMConfig(layers=5), zero_params(CFG))


def test_network_equals_flax_cells_scanned_over_time_values_and_gradients():
    """The forward pass runs the flax cells' weights through lstm_kernel (batch-last, hand-written
    backward); scanning the `OptimizedLSTMCell`s themselves is the reference, for the output and for
    the gradient of a loss with respect to every weight."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    m = StackedLSTM(CFG, seed=3)
    model = nnx.merge(m.flax_graphdef, nnx.State(m.params))
    x, y = _xy(_periodic())

    def reference(model, x):
        h = jnp.swapaxes(jnp.asarray(x), 0, 1)  # (time, batch, features)
        for cell in model.cells:
            zeros = jnp.zeros((x.shape[0], CFG.units), jnp.float32)
            h = jax.lax.scan(lambda carry, xt, cell=cell: cell(carry, xt), (zeros, zeros), h)[1]
        return model.out(jnp.swapaxes(h, 0, 1))

    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(reference(model, x)), rtol=1e-5, atol=1e-6)

    def loss(params, run):
        return jnp.mean((run(nnx.merge(m.flax_graphdef, params), x) - y) ** 2)

    params = nnx.state(model, nnx.Param)
    got = jax.grad(loss)(params, lambda mod, v: mod(v))
    want = jax.grad(loss)(params, reference)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-6)


def test_the_training_compiler_options_leave_the_results_as_they_are(monkeypatch):
    """With the JAX loops the chunk program is compiled with XLA's older fusion emitter (faster there):
    same numbers as the default compilation, new weights included, up to float rounding. The program
    is traced with the JAX loops even where the native ones are built (those compile with defaults)."""
    import jax

    from spear_tui.detect.kernels import lstm_kernel
    from spear_tui.detect.kernels.lstm_kernel import JAX_LOOP_TRAINING_OPTIONS as TRAINING_COMPILER_OPTIONS

    monkeypatch.setattr(lstm_kernel, "lstm_layer", lstm_kernel.jax_lstm_layer)
    x, y = _xy(_periodic())
    m = StackedLSTM(CFG, seed=4)
    args = (m._flat, m._opt, x, y, np.ones((50, 10), np.float32), np.int32(3), np.float32(np.inf))
    lowered = m.traced_chunk_fn().lower(*args)
    assert "SpearLstm" not in lowered.as_text()
    default = jax.tree.leaves(lowered.compile()(*args))
    tuned = jax.tree.leaves(lowered.compile(compiler_options=TRAINING_COMPILER_OPTIONS)(*args))
    assert len(default) == len(tuned)
    for a, b in zip(default, tuned, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cfg", [LSTMConfig(), LSTMConfig(loss="huber", trim=0.0), LSTMConfig(timing=True, features=3)]
)
def test_the_chunk_program_without_flax_is_flax_modules_program_bit_for_bit(cfg):
    """The nets run `_forward` on the nested weights instead of merging Flax's module (no Flax import
    or model trace per process): scores, training losses, weights and Adam state equal, bit for bit,
    the program traced through Flax's module, compiled alike, over warm-up, gated and masked chunks."""
    from functools import partial

    import jax
    from flax import nnx

    from spear_tui.detect.kernels.lstm_kernel import TRAINING_COMPILER_OPTIONS
    from spear_tui.detect.lstm.chunk_program import _group_step
    from spear_tui.detect.lstm.stacked_lstm import _build_model, _structure

    net = StackedLSTM(cfg, 0)
    net.compile()
    st = _structure(cfg)
    assert st.graphdef is None
    graphdef = nnx.split(nnx.eval_shape(lambda: _build_model(cfg, 0)), nnx.Param)[0]
    rng = np.random.default_rng(0)
    chunks, steps, gates = [], [], []
    for n, gate in ((100, np.inf), (1, np.inf), (0, np.inf), (3, 0.0), (1, np.inf)):
        xx = rng.normal(size=(cfg.batch, cfg.seq_len, cfg.features)).astype(np.float32)
        yy = rng.normal(size=xx.shape).astype(np.float32)
        mask = (rng.random((cfg.batch, cfg.seq_len)) > 0.2).astype(np.float32)
        chunks.append((xx, yy, mask))
        steps.append(n)
        gates.append(gate)
    group = ChunkGroup.of(cfg, chunks, steps, gates)
    shapes = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in group.arrays]
    flax_fn = jax.jit(partial(_group_step, graphdef, st.unravel, st.tx, cfg.loss, cfg.trim)).lower(
        net._flat, net._opt, *shapes
    ).compile(compiler_options=TRAINING_COMPILER_OPTIONS)
    a = net._compiled(net._flat, net._opt, *group.arrays)
    b = flax_fn(net._flat, net._opt, *group.arrays)
    for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert np.array_equal(np.asarray(p).view(np.uint32), np.asarray(q).view(np.uint32))
