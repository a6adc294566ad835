"""The paper's stacked LSTM (6 layers x 10 units, full sequences passed on, time-distributed dense)
and its jitted, fixed-shape training/scoring functions.

Why the functional wrapping: the model is defined with flax.nnx (`OptimizedLSTMCell`: its weights'
layout and initialisation, what checkpoints hold), but the jitted functions take the parameters and the
optax state as plain arrays and run the net from the nested weights (`chunk_program._forward`, the
module's operations in the same order: the same program, tested). Plain `nnx.jit` re-traverses the
object graph on every call, which costs more than the arithmetic at this size, and importing Flax and
tracing the module cost
~0.45 CPU-s per process. One jitted call scores and trains up to GROUP_CHUNKS chunks in order
(`chunk_program._group_step`), so a group costs one Python dispatch, and that dispatch returns before
the work is done (the caller overlaps its own).
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from spear_tui.detect.lstm.chunk_program import _chunk_step, _group_step, _loss
from spear_tui.detect.lstm.lstm_shapes import param_shapes, params_fit, zero_params  # noqa: F401 (re-exported)

SEQUENCE_MODES = ("flow", "direction", "paper")
# Chunks per compiled call (`StackedLSTM.dispatch_group`): 1 -> 16 took a chunk's XLA time from 0.99 to
# 0.65 CPU-ms (BENCHMARKS.md "End-to-end scan"); a shorter group leaves its last slots inactive.
GROUP_CHUNKS = 16

# Compiled group programs shared by every detector with the same network and optimiser settings
# (the parameters are arguments, so MQTT, Modbus and BACnet detectors compile once between them).
_COMPILED: dict[tuple, Any] = {}
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class LSTMConfig:
    """Everything that defines a detector; saved in the checkpoint.

    The defaults were chosen by measurement (see BENCHMARKS.md, "Shuffle experiment").
    """

    layers: int = 6  # the paper's depth
    units: int = 10  # the paper's width
    features: int = 2  # (message type, message length) [+ per-talker rhythm with `timing`]
    chunk: int = 500  # messages per chunk (= batch * seq_len)
    seq_len: int = 10
    lr: float = 3e-3  # Adam learning rate
    steps: int = 1  # Adam steps per chunk
    warmup_steps: int = 100  # Adam steps per chunk while a fresh net learns (it needs tens of steps)
    warmup_train: int = 3  # first chunks trained with warmup_steps (none when loaded from a checkpoint)
    mode: str = "flow"  # sequence design: "flow" | "direction" | "paper" (see features.py)
    timing: bool = False  # third feature: per-talker rhythm (features.rhythm_feature); needs features=3
    k: float = 6.0  # peak-detector sensitivity (baseline SDs = 1.4826 MAD above the rolling median)
    gate: bool = True  # do not train on chunks scoring above the previous chunk's threshold
    warmup_chunks: int = 8  # chunks scored before the peak detector may flag
    window: int = 50  # rolling-median window (chunks)
    scaling: str = "zclip"  # feature normalisation, see features.RunningNorm
    trim: float = 0.2  # score = mean per-message loss without the largest `trim` fraction (0 = plain mean)
    loss: str = "mse"  # "mse" (the paper) | "huber" (delta 1: a rare-but-normal message costs linearly)
    clip: float = 1.0  # global gradient-norm clip: one odd chunk cannot wreck the weights

    @property
    def batch(self) -> int:
        return self.chunk // self.seq_len

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LSTMConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    def validate(self) -> None:
        from spear_tui.errors import UserError

        if self.chunk % self.seq_len:
            raise UserError(f"chunk ({self.chunk}) must be a multiple of seq_len ({self.seq_len})")
        if self.mode not in SEQUENCE_MODES:
            raise UserError(f"unknown sequence mode {self.mode!r}; choose one of {', '.join(SEQUENCE_MODES)}")
        if self.features != 2 + int(self.timing):
            raise UserError(f"features must be {2 + int(self.timing)} with timing={self.timing}")
        if self.steps < 1 or self.warmup_steps < 0:
            raise UserError("steps must be >= 1 and warmup_steps >= 0")


def configure_xla(threads: int = 1) -> None:
    """Keep XLA on one core (tshark owns the other); must run before jax is imported to take effect.

    Single-threaded Eigen is not slower for this tiny net (BENCHMARKS.md "stacked_lstm: the chunk
    program", `bench/model_step.py`).
    Also enables JAX's persistent compilation cache so the second start compiles in a fraction.
    """
    if "jax" in __import__("sys").modules:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        flags += f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
        flags += f" intra_op_parallelism_threads={threads}"
        os.environ["XLA_FLAGS"] = flags.strip()
    cache = os.environ.get("SPEAR_TUI_JAX_CACHE", os.path.expanduser("~/.cache/spear-tui/jax"))
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", cache)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def _program_key(cfg: LSTMConfig) -> tuple:
    return (cfg.layers, cfg.units, cfg.features, cfg.batch, cfg.seq_len, cfg.lr, cfg.clip, cfg.loss, cfg.trim)


@dataclass(frozen=True)
class _Structure:
    """What every net of one config shares: built once per process (the warm-up does it)."""

    graphdef: Any
    unravel: Any  # flat vector -> nested params dict
    tree_def: Any
    ref: Any  # nested dict of ShapeDtypeStructs, in flax's layout
    tx: Any
    group_fn: Any  # the jitted group program (compiled per config in StackedLSTM.compile)


_STRUCTURES: dict[tuple, _Structure] = {}
_STRUCTURE_LOCK = threading.Lock()


def _structure(cfg: LSTMConfig) -> _Structure:
    """Built from `param_shapes`, without Flax: importing it and tracing the model's construction cost
    ~0.5 CPU-s per process, and the chunk program only needs the weights' layout (`_forward`). Flax
    builds a fresh net's initial weights (`fresh_init`, cached on disk) and the reference tests."""
    import jax
    import optax

    key = _program_key(cfg)
    with _STRUCTURE_LOCK:
        if key not in _STRUCTURES:
            graphdef = None  # the chunk program runs `_forward` on the nested dict
            ref = jax.tree.map(
                lambda s: jax.ShapeDtypeStruct(s, np.float32), param_shapes(cfg),
                is_leaf=lambda s: isinstance(s, tuple),
            )
            unravel = _unraveler(ref)
            tx = optax.chain(optax.clip_by_global_norm(cfg.clip), optax.adam(cfg.lr))
            group_fn = jax.jit(partial(_group_step, graphdef, unravel, tx, cfg.loss, cfg.trim))
            _STRUCTURES[key] = _Structure(graphdef, unravel, jax.tree.structure(ref), ref, tx, group_fn)
        return _STRUCTURES[key]


def _unraveler(ref: Any):
    """flat vector -> nested dict shaped as `ref`: what `jax.flatten_util.ravel_pytree` returns as its
    unravel (the same split and reshapes, so the same program), without its eager concatenation of
    the leaves, which compiled ten small XLA programs (~0.1 CPU-s) on a process's first net."""
    import jax

    leaves, treedef = jax.tree.flatten(ref)
    sizes = tuple(int(np.prod(leaf.shape)) for leaf in leaves)
    shapes = tuple(tuple(leaf.shape) for leaf in leaves)

    def unravel(flat: Any) -> Any:
        parts = jax.lax.split(flat, sizes)
        return jax.tree.unflatten(treedef, [p.reshape(shape) for p, shape in zip(parts, shapes, strict=True)])

    return unravel


def _ravel_like(ref: Any, tree: Any) -> np.ndarray:
    """`tree`'s leaves, shaped and typed as `ref`'s, in one float32 vector in ravel_pytree's order."""
    import jax

    return np.concatenate([
        np.asarray(v, r.dtype).reshape(r.shape).ravel()
        for r, v in zip(jax.tree.leaves(ref), jax.tree.leaves(tree), strict=True)
    ])


def _build_model(cfg: LSTMConfig, seed: int):
    import jax.numpy as jnp
    from flax import nnx

    from spear_tui.detect.kernels.lstm_kernel import lstm_layer

    class StackedLSTM(nnx.Module):
        """`layers` LSTMs, each returning its whole hidden sequence, then a per-step Dense.

        The weights are flax `OptimizedLSTMCell`s (what checkpoints hold); the forward pass runs them
        through `lstm_kernel.lstm_layer`, the same function (gates i, f, g, o; zero initial state) in a
        batch-last layout with a hand-written backward pass: the same scores and losses as scanning
        the cells, in less time, and less again with the native time loops (`lstm_native`, built by
        `make`; BENCHMARKS.md "stacked_lstm: the chunk program"). It is compiled with
        `lstm_kernel.TRAINING_COMPILER_OPTIONS` (what each kind of loop ran fastest with).
        """

        def __init__(self, rngs: nnx.Rngs):
            self.cells = nnx.List(
                [
                    nnx.OptimizedLSTMCell(cfg.features if i == 0 else cfg.units, cfg.units, rngs=rngs)
                    for i in range(cfg.layers)
                ]
            )
            self.out = nnx.Linear(cfg.units, cfg.features, rngs=rngs)

        def __call__(self, x):  # x: (batch, time, features)
            h = jnp.transpose(x, (1, 2, 0))  # (time, features, batch)
            for cell in self.cells:
                h = lstm_layer(h, cell.dense_i.kernel[...], cell.dense_h.kernel[...], cell.dense_h.bias[...])
            return jnp.einsum("tub,uf->btf", h, self.out.kernel[...]) + self.out.bias[...]

    return StackedLSTM(nnx.Rngs(seed))


def _zero_opt_state(tx: Any, flat: Any) -> Any:
    """`tx.init(flat)` (Adam's zero moments and count) made in numpy: the eager JAX ops of `init`
    compile small XLA programs for each new shape (~0.05 CPU-s per config on a new process)."""
    import jax

    return jax.tree.map(lambda s: jax.device_put(np.zeros(s.shape, s.dtype)), jax.eval_shape(tx.init, flat))


class StackedLSTM:
    """Parameters + optimiser state + the compiled chunk function. Not thread-safe; one owner thread.

    Inside, the parameters live as one flat float32 vector (and Adam's moments as two more): a chunk
    call then passes five arrays instead of ~60 leaves (a cheaper dispatch: BENCHMARKS.md
    "stacked_lstm: the chunk program"). The nested dict (`params`, `state_dict`) is what checkpoints
    and tests see.
    """

    def __init__(self, cfg: LSTMConfig, seed: int = 0, state: dict[str, Any] | None = None):
        """A fresh net from `seed`, or (`state`: a `state_dict()`, e.g. a checkpoint's) those weights.

        Either way no Flax model is built here: the structure comes from `param_shapes`, a fresh net's
        weights from `fresh_init` (Flax's initialisation, made once and cached on disk)."""
        import jax

        cfg.validate()
        self.cfg = cfg
        st = _structure(cfg)
        self._graphdef, self._unravel, self._tree_def, self._tx = st.graphdef, st.unravel, st.tree_def, st.tx
        self._group_fn = st.group_fn
        if state is None:
            from spear_tui.detect.lstm.fresh_init import fresh_params

            self._flat = fresh_params(cfg, seed)
        else:  # numpy all the way: eager JAX ops on a new process's first net cost ~0.3 s of compiling
            self._flat = jax.device_put(_ravel_like(st.ref, _match(st.ref, state["params"])))
        self._opt = _zero_opt_state(self._tx, self._flat)
        if state is not None and "opt_state" in state:
            self._load_opt_state(state["opt_state"])
        self._compiled = None

    # -- weights -----------------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """The weights as flax's nested pure dict."""
        return self._unravel(self._flat)

    @property
    def opt_state(self):
        """Adam's state over the nested dict (what checkpoints store)."""
        return self._nested(self._opt)

    def _nested(self, opt_state):
        import jax

        return jax.tree.map(lambda v: self._unravel(v) if v.shape == self._flat.shape else v, opt_state)

    def state_dict(self) -> dict[str, Any]:
        import jax

        return {
            "params": jax.tree.map(np.asarray, self.params),
            "opt_state": [np.asarray(leaf) for leaf in jax.tree.leaves(self.opt_state)],
        }

    def snapshot(self) -> tuple[Any, Any]:
        """The weights and Adam's state as they are now, for `restore` (JAX arrays are immutable: no
        copy, and none of `state_dict`'s unravelling, which compiles on a new process's first net)."""
        return self._flat, self._opt

    def restore(self, snapshot: tuple[Any, Any]) -> None:
        self._flat, self._opt = snapshot

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import jax
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        ref = self.params
        loaded = jax.tree.map(lambda r, v: jnp.asarray(v, r.dtype).reshape(r.shape), ref,
                              _match(ref, state["params"]))
        self._flat = ravel_pytree(loaded)[0]
        if "opt_state" in state:
            self._load_opt_state(state["opt_state"])

    def _load_opt_state(self, saved: list) -> None:
        """Adam's saved leaves (nested-dict order) onto this optimiser; ignored if the count differs.
        The nesting comes from tracing (no eager ops), the values are ravelled in numpy."""
        import jax

        nested = jax.eval_shape(self._nested, self._opt)
        leaves, treedef = jax.tree.flatten(nested)
        if len(saved) != len(leaves):
            return
        values = [np.asarray(v, x.dtype).reshape(x.shape) for x, v in zip(leaves, saved, strict=True)]
        restored = jax.tree.unflatten(treedef, values)
        # back to flat: every params-shaped subtree (Adam's mu and nu) is ravelled
        ref = _structure(self.cfg).ref
        is_params = lambda n: jax.tree.structure(n) == self._tree_def  # noqa: E731
        flat = jax.tree.map(lambda n: _ravel_like(ref, n) if is_params(n) else n, restored, is_leaf=is_params)
        self._opt = jax.tree.map(lambda v: jax.device_put(np.asarray(v)), flat)

    # -- compute -----------------------------------------------------------------------------------
    def compile(self) -> None:
        """Compile the group program now (a second or two; shared in-process, cached on disk)."""
        if self._compiled is not None:
            return
        import jax

        from spear_tui.detect.kernels.lstm_kernel import TRAINING_COMPILER_OPTIONS

        c = self.cfg
        key = _program_key(c)
        with _COMPILE_LOCK:
            if key not in _COMPILED:
                g = GROUP_CHUNKS
                x = jax.ShapeDtypeStruct((g, c.batch, c.seq_len, c.features), np.float32)
                m = jax.ShapeDtypeStruct((g, c.batch, c.seq_len), np.float32)
                s = jax.ShapeDtypeStruct((g,), np.int32)
                f = jax.ShapeDtypeStruct((g,), np.float32)
                lowered = self._group_fn.lower(self._flat, self._opt, x, x, m, s, f, s)
                _COMPILED[key] = lowered.compile(compiler_options=TRAINING_COMPILER_OPTIONS)
            self._compiled = _COMPILED[key]

    def run_chunk(
        self, x: np.ndarray, y: np.ndarray, steps: int, mask: np.ndarray | None = None,
        gate: float = float("inf"),
    ) -> tuple[float, float]:
        """Score (loss before training), then train `steps` Adam steps. Returns (score, train_loss).

        `mask` (batch, seq_len) weights each target; padding of a partial chunk gets 0.
        """
        group = ChunkGroup.of(self.cfg, [(x, y, mask)], [steps], [gate])
        score, train_loss = np.asarray(self.dispatch_group(group))[0].tolist()
        return score, train_loss

    def dispatch_group(self, group: ChunkGroup):
        """Score and train the group's chunks in order, in one call that returns without waiting (JAX
        dispatch is asynchronous), so the caller can prepare the next group meanwhile: a device array
        (GROUP_CHUNKS, 2) of [score, train_loss], already being copied to the host (one transfer,
        started early)."""
        self.compile()
        assert self._compiled is not None  # compile() set it
        self._flat, self._opt, out = self._compiled(self._flat, self._opt, *group.arrays)
        out.copy_to_host_async()
        return out

    def traced_chunk_fn(self):
        """A new jit of the chunk program, traced with whatever `lstm_kernel.lstm_layer` is now (the
        nets' shared one keeps its first trace): for benches and tests comparing the loop variants."""
        import jax

        c = self.cfg
        return jax.jit(partial(_chunk_step, None, self._unravel, self._tx, c.loss, c.trim))

    @property
    def flax_graphdef(self):
        """Flax's definition of this net's module (`nnx.merge` it with `params`): the reference the
        tests hold `_forward` to; the chunk program does not use it."""
        from flax import nnx

        return nnx.split(nnx.eval_shape(lambda: _build_model(self.cfg, 0)), nnx.Param)[0]

    def train_step_fn(self):
        """A jitted plain training step (params, opt_state, x, y) -> (params, opt_state, loss) over the
        nested dict: the unit bench/model_step.py compares with PyTorch (forward + backward + Adam)."""
        import jax
        import optax

        graphdef, tx, kind = self._graphdef, self._tx, self.cfg.loss
        ones = np.ones((self.cfg.batch, self.cfg.seq_len), np.float32)

        def step(params, opt_state, x, y):
            (loss, _), grads = jax.value_and_grad(partial(_loss, graphdef, kind), has_aux=True)(
                params, x, y, ones
            )
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        from spear_tui.detect.kernels.lstm_kernel import TRAINING_COMPILER_OPTIONS

        return jax.jit(step, compiler_options=TRAINING_COMPILER_OPTIONS)


@dataclass(frozen=True)
class ChunkGroup:
    """Up to GROUP_CHUNKS chunks as one call takes them: inputs, targets, masks, Adam steps, training
    gates and which slots hold a chunk (the rest are zeros, skipped)."""

    arrays: tuple[np.ndarray, ...]  # xs, ys, masks, steps, gates, active
    size: int

    @classmethod
    def of(
        cls, cfg: LSTMConfig, chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
        steps: list[int], gates: list[float],
    ) -> ChunkGroup:
        """`chunks`: (x, y, mask or None for a full chunk) each, at most GROUP_CHUNKS."""
        g, n = GROUP_CHUNKS, len(chunks)
        if not 0 < n <= g:
            raise ValueError(f"a group holds 1 to {g} chunks, not {n}")
        xs = np.zeros((g, cfg.batch, cfg.seq_len, cfg.features), np.float32)
        ys = np.zeros_like(xs)
        masks = np.zeros((g, cfg.batch, cfg.seq_len), np.float32)
        for i, (x, y, mask) in enumerate(chunks):
            xs[i], ys[i] = x, y
            masks[i] = 1.0 if mask is None else mask
        st = np.zeros(g, np.int32)
        st[:n] = steps
        gt = np.full(g, np.inf, np.float32)
        gt[:n] = gates
        active = np.zeros(g, np.int32)
        active[:n] = 1
        return cls((xs, ys, masks, st, gt, active), n)


def _match(ref: Any, saved: Any) -> Any:
    """Saved pure dicts come back from msgpack with string keys; map them onto the reference tree."""
    if isinstance(ref, dict):
        return {k: _match(v, saved[str(k)] if str(k) in saved else saved[k]) for k, v in ref.items()}
    return saved
