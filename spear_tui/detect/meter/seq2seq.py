"""The paper's seq2seq LSTM autoencoder for meter days: 2 LSTM encoder layers, 2 LSTM decoder layers,
a dense output; one model per measurement, input (days, samples_per_day, 1).

Why it looks like this:
- LSTM layers are `lstm_kernel.lstm_layer`: batch-last, a hand-written backward pass, a
  residual-free forward for scoring, and the time loops as native calls when `make` built them
  (`lstm_native`); speed against PyTorch is measured in BENCHMARKS.md "Seq2seq".
- Jitted via `nnx.split`/`nnx.merge` around `jax.jit` (plain `nnx.jit` re-walks the graph each call),
  and a whole epoch is one `lax.scan` over fixed-size, mask-padded batches: one compile per fit.
  Epochs and scoring are compiled with the XLA options `lstm_kernel` measured for each.
- Optional calendar channels (day of week, holiday flag, see `calendar.py`) go to the decoder next to
  the latent code; only the measurement is reconstructed. A small latent bottleneck makes the decoder
  rely on the calendar, so a day that does not look like its weekday reconstructs badly.
- Scores (per-day MSE, per-sample squared error) are in normalised units (training mean/std), so
  thresholds do not depend on the meter's units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from spear_tui.detect.meter.calendar import calendar_channels
from spear_tui.errors import UserError
from spear_tui.events import TrainingProgress

KIND = "seq2seq"


@dataclass(frozen=True)
class Seq2SeqConfig:
    samples_per_day: int = 96
    hidden: int = 32
    latent: int = 8
    calendar: bool = False  # day-of-week channels for the decoder
    holidays: str | None = None  # built-in holiday calendar ("US", "GR") -> holiday flag channel
    batch_size: int = 32
    epochs: int = 150
    lr: float = 3e-3
    patience: int = 15
    val_fraction: float = 0.2
    seed: int = 0

    @property
    def n_calendar(self) -> int:
        return 8 if self.calendar else 0


@dataclass
class MeterScores:
    """Scores of a run of days. `mse` is NaN for incomplete days (never silently scored)."""

    dates: list[date]
    mse: np.ndarray  # float (n_days,)
    per_sample_error: np.ndarray  # float (n_days, S): squared error, normalised units
    reconstruction: np.ndarray  # float (n_days, S): in the measurement's own units
    complete: np.ndarray  # bool (n_days,)


@dataclass
class FitResult:
    epochs_run: int
    best_epoch: int
    train_loss: float
    val_loss: float
    history: list[tuple[float, float]] = field(default_factory=list)


def lstm2(x: Any, l1: tuple, l2: tuple) -> Any:
    """Two stacked LSTM layers; x: (T, din, B) batch-last, l1/l2 = (wi, wh, b). -> (T, h, B).

    `lstm_kernel.lstm_layer` (batch-last layout, hand-written backward) scores and trains faster than
    a scanned (B, h) formulation (BENCHMARKS.md "seq2seq" under "Design measurements", and "Seq2seq").
    """
    from spear_tui.detect.kernels.lstm_kernel import lstm_layer

    return lstm_layer(lstm_layer(x, *l1), *l2)


def _build_model(cfg: Seq2SeqConfig, seed: int) -> Any:
    import jax
    import jax.numpy as jnp
    from flax import nnx

    class LSTM(nnx.Module):
        """Weights of one LSTM layer (PyTorch gate order i, f, g, o); run in pairs by `lstm2`."""

        def __init__(self, din: int, h: int, rngs: nnx.Rngs):
            self.wi = nnx.Param(nnx.initializers.glorot_uniform()(rngs.params(), (din, 4 * h)))
            self.wh = nnx.Param(nnx.initializers.orthogonal()(rngs.params(), (h, 4 * h)))
            self.b = nnx.Param(jnp.zeros((4 * h,)).at[h : 2 * h].set(1.0))

        def weights(self) -> tuple[jax.Array, jax.Array, jax.Array]:
            return self.wi[...], self.wh[...], self.b[...]

    class Seq2Seq(nnx.Module):
        def __init__(self, cfg: Seq2SeqConfig, rngs: nnx.Rngs):
            s, hdim = cfg.samples_per_day, cfg.hidden
            self.enc1 = LSTM(1, hdim, rngs)
            self.enc2 = LSTM(hdim, hdim, rngs)
            self.to_latent = nnx.Linear(hdim, cfg.latent, rngs=rngs)
            self.dec1 = LSTM(cfg.latent + 2 + cfg.n_calendar, hdim, rngs)
            self.dec2 = LSTM(hdim, hdim, rngs)
            self.out = nnx.Linear(hdim, 1, rngs=rngs)
            t = np.arange(s) * (2 * math.pi / s)
            self.pos = nnx.Variable(jnp.asarray(np.stack([np.sin(t), np.cos(t)], 1), jnp.float32))

        def __call__(self, x: jax.Array, cal: jax.Array) -> jax.Array:
            # x: (B, S, 1), cal: (B, n_cal) -> reconstruction (B, S); the LSTMs run batch-last
            hs = lstm2(jnp.transpose(x, (1, 2, 0)), self.enc1.weights(), self.enc2.weights())
            z = jnp.tanh(self.to_latent(hs[-1].T))  # (B, latent)
            s, b = x.shape[1], x.shape[0]
            pos = jnp.broadcast_to(self.pos[...][:, :, None], (s, 2, b))
            parts = [jnp.broadcast_to(z.T[None], (s, z.shape[-1], b)), pos]
            if cal.shape[-1]:
                parts.append(jnp.broadcast_to(cal.T[None], (s, cal.shape[-1], b)))
            d = lstm2(jnp.concatenate(parts, 1), self.dec1.weights(), self.dec2.weights())  # (S, h, B)
            assert self.out.bias is not None  # nnx.Linear with use_bias (the default)
            out = jnp.einsum("shb,ho->bs", d, self.out.kernel[...]) + self.out.bias[...][0]
            return out

    return Seq2Seq(cfg, nnx.Rngs(params=seed))


def _pad_batches(n: int, bsz: int, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index matrix (steps, bsz) and mask: `order` cut into fixed-size batches, the last one padded."""
    steps = max(1, -(-n // bsz))
    idx = np.zeros(steps * bsz, dtype=np.int64)
    mask = np.zeros(steps * bsz, dtype=np.float32)
    idx[:n], mask[:n] = order, 1.0
    return idx.reshape(steps, bsz), mask.reshape(steps, bsz)


class MeterDetector:
    """One measurement's autoencoder: fit on normal days, score any days, save/load as a checkpoint."""

    def __init__(self, cfg: Seq2SeqConfig, measurement: str = "value"):
        from flax import nnx

        self.cfg = cfg
        self.measurement = measurement
        self.model = _build_model(cfg, cfg.seed)
        self._graphdef, self._params, *rest = nnx.split(self.model, nnx.Param, ...)
        self._rest = rest[0]  # one state for the `...` filter: everything that is not a Param
        self.mean = 0.0
        self.std = 1.0
        self.train_mse: np.ndarray = np.zeros(0, np.float32)  # training days' MSE (threshold rules)
        self.train_weekdays: np.ndarray = np.zeros(0, np.int8)  # their weekdays (Mon=0), same order
        self._score_fn: Callable | None = None
        self.extra: dict[str, Any] = {}  # checkpoint extras (e.g. the threshold rule it was shipped with)

    # ---------------------------------------------------------------- inputs
    def _inputs(self, values: np.ndarray, dates: Sequence[date]) -> tuple[np.ndarray, np.ndarray]:
        v = np.asarray(values, dtype=np.float32)
        if v.ndim == 3:
            v = v[..., 0]
        if v.ndim != 2 or v.shape[1] != self.cfg.samples_per_day:
            raise UserError(
                f"meter days have {v.shape[-1] if v.ndim else 0} samples a day; "
                f"this model expects {self.cfg.samples_per_day}"
            )
        x = (v - self.mean) / self.std
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)[..., None]
        if self.cfg.calendar:
            cal = calendar_channels(dates, holidays=self.cfg.holidays)
        else:
            cal = np.zeros((len(dates), 0), np.float32)
        return x.astype(np.float32), cal

    # ---------------------------------------------------------------- training
    def _make_epoch_fn(self) -> Callable:
        import jax
        import jax.numpy as jnp
        import optax
        from flax import nnx

        graphdef, rest = self._graphdef, self._rest
        tx = optax.adam(self.cfg.lr)

        def loss_fn(params, x, cal, m):
            model = nnx.merge(graphdef, params, rest)
            err = jnp.mean((model(x, cal) - x[..., 0]) ** 2, axis=1)
            return jnp.sum(err * m) / jnp.maximum(jnp.sum(m), 1.0)

        def epoch(params, opt_state, xb, cb, mb):
            def step(carry, batch):
                p, o = carry
                loss, grads = jax.value_and_grad(loss_fn)(p, *batch)
                updates, o = tx.update(grads, o, p)
                return (optax.apply_updates(p, updates), o), loss * jnp.sum(batch[2])

            (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (xb, cb, mb))
            return params, opt_state, jnp.sum(losses) / jnp.maximum(jnp.sum(mb), 1.0)

        from spear_tui.detect.kernels.lstm_kernel import TRAINING_COMPILER_OPTIONS

        self._tx = tx
        return jax.jit(epoch, compiler_options=TRAINING_COMPILER_OPTIONS)

    def fit(
        self,
        values: np.ndarray,
        dates: Sequence[date],
        *,
        progress: Callable[[TrainingProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> FitResult:
        """Train on normal days (values: (n_days, S) or (n_days, S, 1), no incomplete days)."""
        v = np.asarray(values, dtype=np.float32)
        v = v[..., 0] if v.ndim == 3 else v
        n = len(v)
        if n < 4:
            raise UserError(f"need at least 4 normal days to train the meter model, got {n}")
        if not np.isfinite(v).all():
            raise UserError("training days contain missing values; exclude incomplete days")
        cfg = self.cfg
        self.mean = float(v.mean())
        self.std = float(v.std()) or 1.0
        x, cal = self._inputs(v, dates)
        rng = np.random.default_rng(cfg.seed)
        perm = rng.permutation(n)
        n_val = max(1, int(round(n * cfg.val_fraction))) if n >= 8 else 0
        val_idx, tr_idx = perm[:n_val], perm[n_val:]
        epoch_fn = self._make_epoch_fn()
        params = self._params
        opt_state = self._tx.init(params)
        best = (math.inf, params, 0)
        history: list[tuple[float, float]] = []
        epochs_run = 0
        for ep in range(1, cfg.epochs + 1):
            idx, mask = _pad_batches(len(tr_idx), cfg.batch_size, rng.permutation(tr_idx))
            params, opt_state, loss = epoch_fn(params, opt_state, x[idx], cal[idx], mask)
            loss = float(loss)
            self._params = params
            val = float(np.mean(self._mse(x[val_idx], cal[val_idx]))) if n_val else loss
            history.append((loss, val))
            epochs_run = ep
            if progress:
                progress(TrainingProgress("seq2seq", ep, cfg.epochs, loss, val if n_val else None))
            if val < best[0]:
                best = (val, params, ep)
            elif ep - best[2] >= cfg.patience:
                break
            if should_stop and should_stop():
                break
        self._params = best[1]
        self.train_mse = self._mse(x, cal).astype(np.float32)
        self.train_weekdays = np.fromiter((d.weekday() for d in dates), np.int8, count=n)
        return FitResult(epochs_run, best[2], history[best[2] - 1][0], best[0], history)

    # ---------------------------------------------------------------- scoring
    def _recon(self, x: np.ndarray, cal: np.ndarray) -> np.ndarray:
        import jax
        from flax import nnx

        from spear_tui.detect.kernels.lstm_kernel import SCORING_COMPILER_OPTIONS

        bsz = self._scoring_batch(len(x))
        if self._score_fn is None:
            graphdef, rest = self._graphdef, self._rest
            self._score_fn = jax.jit(
                lambda p, xb, cb: nnx.merge(graphdef, p, rest)(xb, cb),
                compiler_options=SCORING_COMPILER_OPTIONS,
            )
        idx, _ = _pad_batches(len(x), bsz, np.arange(len(x)))
        out = [np.asarray(self._score_fn(self._params, x[row], cal[row])) for row in idx]
        return np.concatenate(out)[: len(x)] if out else np.zeros((0, x.shape[1]), np.float32)

    @staticmethod
    def _scoring_batch(n_days: int) -> int:
        """Days per scoring call. The JAX loops score in one fixed shape of 128 (one compile; exact
        sizes measured irregular there). The native loops cost in proportion to the batch, in
        16-day vectors, so up to 128 days are scored as the next multiple of 16 (at most 8 shapes,
        each compiled once): 100 days as 112 instead of 128."""
        from spear_tui.detect.kernels.lstm_native import UNAVAILABLE, padded

        if UNAVAILABLE is not None or n_days >= 128:
            return 128
        return padded(max(n_days, 1))

    def _mse(self, x: np.ndarray, cal: np.ndarray) -> np.ndarray:
        return np.mean((self._recon(x, cal) - x[..., 0]) ** 2, axis=1)

    def score(
        self, values: np.ndarray, dates: Sequence[date], complete: np.ndarray | None = None
    ) -> MeterScores:
        """Reconstruct every day; incomplete days (or any with missing values) get MSE = NaN."""
        x, cal = self._inputs(values, dates)
        v = np.asarray(values, dtype=np.float32).reshape(x.shape[:2])
        ok = np.isfinite(v).all(axis=1)
        if complete is not None:
            ok &= np.asarray(complete, dtype=bool)
        rec = self._recon(x, cal) if len(x) else np.zeros(x.shape[:2], np.float32)
        err = (rec - x[..., 0]) ** 2
        err[~ok] = np.nan
        mse = np.where(ok, err.mean(axis=1) if len(x) else 0.0, np.nan)
        return MeterScores(list(dates), mse, err, rec * self.std + self.mean, np.asarray(ok))

    # ---------------------------------------------------------------- checkpoints
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        from flax import nnx

        from spear_tui.detect.lstm.checkpoint import Checkpoint, save_checkpoint

        pure = nnx.to_pure_dict(self._params)
        info = {"mean": self.mean, "std": self.std, "train_mse": self.train_mse,
                "train_weekdays": self.train_weekdays, "measurement": self.measurement}
        info.update(extra or {})
        save_checkpoint(path, Checkpoint(KIND, asdict(self.cfg), pure, info))

    @classmethod
    def load(cls, path: str | Path) -> MeterDetector:
        from flax import nnx

        from spear_tui.detect.lstm.checkpoint import load_checkpoint

        ck = load_checkpoint(path, KIND)
        try:
            cfg = Seq2SeqConfig(**ck.config)
            det = cls(cfg, str(ck.extra.get("measurement", "value")))
            nnx.replace_by_pure_dict(det._params, ck.params)
            det.mean = float(ck.extra["mean"])
            det.std = float(ck.extra["std"])
            det.train_mse = np.asarray(ck.extra.get("train_mse", np.zeros(0)), np.float32)
            det.train_weekdays = np.asarray(ck.extra.get("train_weekdays", np.zeros(0)), np.int8)
        except (TypeError, KeyError, ValueError) as exc:
            raise UserError(f"{path} is not a usable seq2seq checkpoint ({exc})") from None
        det.extra = ck.extra
        return det
