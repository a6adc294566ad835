"""Online chunk-by-chunk stacked-LSTM detector: one per protocol, driven by the engine's worker thread.

For every full chunk of `cfg.chunk` (500) messages: order the messages by the sequence mode, normalise
with the running statistics seen so far, score the chunk with the current weights (the anomaly score:
data never trained on) and train on it in the same compiled call (the training loss is what the
optimiser saw), then update the statistics and the peak detector. Everything runs in the thread that
calls `feed`; nothing here knows about the UI.

End of source (`flush`): a remainder of at least `MIN_PARTIAL` messages is scored with the padding
masked out of the loss, flagged against the same threshold, and not trained on; a smaller remainder
is dropped (a loss over a handful of messages says nothing). Its train_loss is its plain mean loss.
A trained net also judges its warm-up chunks once enough scores exist (`_warmup_review`). The rule
that flags, and what the alerts say, are in `decision` (shared with every sink that re-flags).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from spear_tui.detect.lstm import peaks
from spear_tui.detect.lstm.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from spear_tui.detect.lstm.chunk_batch import ChunkBatch, ChunkTensors
from spear_tui.detect.lstm.decision import (
    DETECTOR,
    REVIEW_AFTER,
    PeakRule,
    chunk_alert,
    reset_alert,
    review_alerts,
)
from spear_tui.detect.lstm.features import Prepared, RunningNorm, chunk_talkers, with_rhythm
from spear_tui.detect.lstm.lstm_shapes import params_fit
from spear_tui.detect.lstm.lstm_warmup import start_warm_up
from spear_tui.detect.lstm.rhythm_carry import RhythmCarry
from spear_tui.detect.lstm.shared_views import SharedViews
from spear_tui.detect.lstm.stacked_lstm import (
    GROUP_CHUNKS,
    ChunkGroup,
    LSTMConfig,
    StackedLSTM,
    configure_xla,
)
from spear_tui.errors import UserError
from spear_tui.events import Alert, ChunkScored

KIND = "stacked_lstm"
MIN_PARTIAL = 100
WARMUP_GATE = 5.0
# A chunk's training gate is the threshold of the chunk GATE_LAG before it (the rule from when chunks
# were queued one by one, two deep: kept, so that what a net learns does not depend on how its chunks
# are grouped into calls).
GATE_LAG = 1
# Chunks per compiled call: up to GROUP_CHUNKS (tests set 1 to compare with chunk-by-chunk calls).
CHUNKS_PER_CALL = GROUP_CHUNKS
_ARCH = ("layers", "units", "features", "chunk", "seq_len", "mode", "scaling", "loss", "timing")
_KEEP = ("frame", "file", "time", "src", "dst", "sport", "dport", "msgtype", "length", "clientid")


@dataclass
class _Group:
    """Consecutive chunks of one batch sent to XLA in one call, with what the call was given."""

    spans: list[tuple[int, int]]
    tensors: list[ChunkTensors]
    steps: list[int]
    gates: list[float] = field(default_factory=list)  # the training gates the call was given
    out: Any = None  # device array (GROUP_CHUNKS, 2) [score, train_loss]
    start: Any = None  # the net's weights and Adam state before the call (to run it again)


class OnlineLSTMDetector:
    """The paper's online LSTM on one protocol's message stream. Not thread-safe: one feeding thread."""

    name = DETECTOR

    def __init__(
        self,
        protocol: str,
        config: LSTMConfig | None = None,
        *,
        seed: int = 0,
        checkpoint: str | Path | None = None,
        name: str = DETECTOR,
        shared: SharedViews | None = None,
    ):
        configure_xla()
        self.protocol = protocol
        self.name = name  # which view of the protocol (events, alerts and sliders are keyed by it)
        ckpt = load_checkpoint(checkpoint, KIND) if checkpoint is not None else None
        cfg = config or LSTMConfig()
        if ckpt is not None:
            saved = LSTMConfig.from_dict(ckpt.config)
            if ckpt.extra.get("protocol", protocol) != protocol:
                raise UserError(f"{checkpoint} is a {ckpt.extra.get('protocol')} model, not {protocol}")
            # The network's shape and sequence design come from the checkpoint; run-time knobs from `config`.
            cfg = LSTMConfig.from_dict({**cfg.to_dict(), **{k: getattr(saved, k) for k in _ARCH}})
        cfg.validate()
        self.cfg = cfg
        self.seed = seed
        self.sensitivity: float = cfg.k
        self.norm = RunningNorm.empty(cfg.features, cfg.scaling)
        self._trained_chunks = 0
        # The net itself is built when first needed (`model`): JAX's import, the build and the compile
        # run meanwhile in a background warm-up, overlapping tshark's start and the first batches.
        self._model: StackedLSTM | None = None
        self._state: dict[str, Any] | None = None  # checkpoint weights the net starts from
        if ckpt is not None:
            try:
                if not params_fit(cfg, ckpt.params):
                    raise ValueError("weight shapes")
                self.norm = RunningNorm.from_dict(ckpt.extra["norm"])
            except (KeyError, ValueError, TypeError):
                raise UserError(f"{checkpoint} does not match the stacked-LSTM architecture") from None
            self._state = {"params": ckpt.params, **ckpt.extra.get("optimizer", {})}
            self._trained_chunks = int(ckpt.extra.get("chunks_trained", 0))
        start_warm_up(cfg, fresh=ckpt is None, seed=seed)
        self._pretrained = ckpt is not None
        # Mean chunk score at the end of offline training (saved by `experiment train`): during the
        # peak detector's warm-up there is no threshold yet, so a trained net skips training on chunks
        # scoring above WARMUP_GATE x this instead (an attack in the first chunks is not learned).
        self.ref_score: float | None = None
        if ckpt is not None and "ref_score" in ckpt.extra:
            self.ref_score = float(ckpt.extra["ref_score"])
        # What a non-finite loss resets the detector to (see _reset); the weights once the net exists.
        self._initial: tuple[Any, dict, int] = (
            None, self.norm.to_dict(), self._trained_chunks
        )
        self.resets = 0
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._prev = np.zeros(cfg.features)  # raw features of the last message fed to the net
        # the protocol's other views make the same client ids and per-message arrays: made once
        self._shared = shared or SharedViews()
        self._shared.join()
        self._offset = 0  # messages run so far (which run of the stream a prepared table is)
        self._rhythm = RhythmCarry()  # each talker's rhythm continues across batches (timing only)
        self.scores: list[float] = []
        self.train_losses: list[float] = []
        self.thresholds: list[float | None] = []  # at the user's sensitivity: what flags chunks
        self._gates: list[float | None] = []  # at the configured k: what keeps a chunk out of training
        self._warmup_chunks: list[ChunkScored] | None = []  # judged later together; None: done
        self._set_rule()

    @property
    def model(self) -> StackedLSTM:
        """The net, built on first use from the checkpoint's weights or the seed."""
        if self._model is None:
            self._model = StackedLSTM(self.cfg, self.seed, state=self._state)
            self._state = None
            self._initial = (self._model.snapshot(), *self._initial[1:])
        return self._model

    # -- public API --------------------------------------------------------------------------------
    def feed(self, table: pl.DataFrame) -> list:
        """Buffer `table`'s messages; score and train every full chunk. Returns ChunkScored/Alert events."""
        if table.height == 0:
            return []
        if self.protocol == "mqtt":
            self._shared.learn_client_ids(table)  # the table the engine gave every view: learned once
        table = table.select([c for c in _KEEP if c in table.columns])
        self._pending.append(table)
        self._pending_rows += table.height
        return self._run_full_chunks()

    def flush(self) -> list:
        """End of source: score (never train on) a remainder of >= MIN_PARTIAL messages, else drop it;
        then judge the warm-up chunks if the run was too short to have done so."""
        events: list = []
        if self._pending_rows >= MIN_PARTIAL:
            parts = self._pending
            buf = pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]
            self._pending, self._pending_rows = [], 0
            events.extend(self._run(buf, train=False))
        self._pending, self._pending_rows = [], 0
        if self._warmup_chunks:
            events.extend(self._warmup_review())
        return events

    def _run_full_chunks(self) -> list:
        """Score and train every full chunk buffered; the remainder stays buffered."""
        n = self.cfg.chunk
        if self._pending_rows < n:
            return []
        buf = pl.concat(self._pending, how="diagonal_relaxed") if len(self._pending) > 1 else self._pending[0]
        full = (buf.height // n) * n
        rest = buf.slice(full)
        self._pending = [rest] if rest.height else []
        self._pending_rows = rest.height
        return self._run(buf.slice(0, full), train=True)

    def save(self, path: str | Path) -> None:
        """Weights, optimiser state, normalisation statistics and config, atomically (msgpack)."""
        state = self.model.state_dict()
        save_checkpoint(
            path,
            Checkpoint(
                kind=KIND,
                config=self.cfg.to_dict(),
                params=state["params"],
                extra={
                    "protocol": self.protocol,
                    "norm": self.norm.to_dict(),
                    "optimizer": {"opt_state": state["opt_state"]},
                    "chunks_trained": self._trained_chunks,
                    **({"ref_score": self.ref_score} if self.ref_score else {}),
                    "seed": self.seed,
                },
            ),
        )

    def _set_rule(self) -> None:
        """The decision rule, fixed once the detector exists (trained or fresh): made once, not per chunk."""
        skip = 0 if self._pretrained else self.cfg.warmup_chunks // 2
        review = 0 if skip else REVIEW_AFTER * self.cfg.warmup_chunks
        self._rule = PeakRule(self.cfg.warmup_chunks, self.cfg.window, skip, review=review)
        self._peak = self._rule.peak_params()

    def run_as_trained(self, cfg: LSTMConfig) -> None:
        """From now on, run as a detector started from trained weights with run-time `cfg` and no scores
        yet (experiments: a net just trained offline, then fed a capture)."""
        self.cfg = cfg
        self.sensitivity = cfg.k
        self.scores, self.train_losses, self.thresholds, self._gates = [], [], [], []
        self._pretrained = True
        self._pending, self._pending_rows = [], 0
        self._set_rule()

    def peak_params(self) -> dict:
        """Keyword arguments of peaks.flag_scores/peak_heights that reproduce this detector's flags."""
        return dict(self._peak)

    @property
    def rule(self) -> PeakRule:
        """This detector's decision rule (sent to sinks as DetectorStarted, so re-flagging agrees)."""
        return self._rule

    @property
    def baseline_skip(self) -> int:
        """Leading scores left out of the baseline: half the warm-up (fresh net) or none (trained)."""
        return self._rule.skip

    def reflag(self, k: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Flags and thresholds of the whole score series at sensitivity `k` (default: current)."""
        return self.rule.flags(np.asarray(self.scores), self.sensitivity if k is None else k)

    # -- internals ---------------------------------------------------------------------------------
    def _steps(self, pending: int = 0) -> int:
        """Adam steps for the next chunk; `pending` trained chunks are queued but not yet counted."""
        if not self._pretrained and self._trained_chunks + pending < self.cfg.warmup_train:
            return self.cfg.warmup_steps
        return self.cfg.steps

    def _run(self, table: pl.DataFrame, *, train: bool) -> list:
        """Score/train every chunk of `table` (a multiple of the chunk size, or one partial chunk when
        not training), in order, up to CHUNKS_PER_CALL chunks per compiled call.

        A chunk's training gate is the threshold of the chunk before it (`_true_gate`), which needs
        the scores of chunks in the same call. So a call is given the gates known when it starts (the
        first two chunks') and, for the rest, the latest known one (`_speculative_gate`: a rolling
        median over 50 scores barely moves in a call). When the call is back, every chunk's decision
        (trained or not) is checked against its true gate; if one differs, the call is run again
        from the same weights with the gates now known (a chunk's result depends only on its inputs
        and the state before it, so the chunks before it come out the same). That is rare: a score
        must fall between the two thresholds. While XLA works on a call, this thread prepares the
        next call's tensors. A reset (a non-finite loss) discards the chunks after it, which are
        then run again from the reset state.
        """
        model = self.model
        prep = self._shared.prepared(table, self.protocol, self._offset)
        self._offset += table.height
        if self.cfg.timing:
            prep = with_rhythm(prep, table, self.protocol, self._rhythm)
        n = self.cfg.chunk
        batch = ChunkBatch(prep, n, self.cfg.mode)
        spans = [(lo, min(lo + n, table.height)) for lo in range(0, table.height, n)]
        events: list = []
        i = 0
        group = self._group(batch, spans[: CHUNKS_PER_CALL], train, in_flight=0)
        while group is not None:
            self._dispatch(model, group, train)
            after = i + len(group.spans)
            upcoming = self._group(batch, spans[after : after + CHUNKS_PER_CALL], train, len(group.spans))
            done = self._settle_group(prep, batch, group, train, events)
            if done < len(group.spans):  # a reset at chunk `done`: the chunks after it start over
                i += done + 1
                upcoming = self._group(batch, spans[i : i + CHUNKS_PER_CALL], train, in_flight=0)
            else:
                i = after
            group = upcoming
        return events

    def _group(
        self, batch: ChunkBatch, spans: list[tuple[int, int]], train: bool, in_flight: int
    ) -> _Group | None:
        """The tensors of the next call's chunks, each normalised with the statistics of everything
        before it (which a trained chunk then joins). `in_flight`: chunks queued before them and not
        yet counted as trained (a fresh net's first chunks get its warm-up steps, whatever the calls)."""
        if not spans:
            return None
        tensors: list[ChunkTensors] = []
        steps: list[int] = []
        for lo, hi in spans:
            chunk = self._tensors(batch, lo, hi)
            steps.append(self._steps(pending=in_flight + len(tensors)) if train else 0)
            if train:
                self.norm.merge(*chunk.stats)  # undone by _reset if a chunk comes back non-finite
            self._prev = chunk.last
            tensors.append(chunk)
        return _Group(spans, tensors, steps)

    def _dispatch(self, model: StackedLSTM, group: _Group, train: bool) -> None:
        """Queue the group on XLA with the gates known now (first run) or found since (a rerun)."""
        n = len(group.spans)
        if group.start is None:
            group.start = model.snapshot()
            # the first chunk's gate is known; the second's is the latest known one, the guess for the rest
            group.gates = [self._true_gate(len(self.scores), [])] + [self._speculative_gate()] * (n - 1)
            if not train:
                group.gates = [float("inf")] * n
        else:
            model.restore(group.start)
        chunks = [(t.x, t.y, t.mask) for t in group.tensors]
        group.out = model.dispatch_group(ChunkGroup.of(self.cfg, chunks, group.steps, group.gates))

    def _settle_group(
        self, prep: Prepared, batch: ChunkBatch, group: _Group, train: bool, events: list
    ) -> int:
        """Wait for the group; check each chunk's training decision against its true gate (running the
        call again until they all agree), then record the chunks and their events in order. Returns
        how many chunks were recorded before a reset (all of them when none)."""
        n = len(group.spans)
        results = np.asarray(group.out)[:n].tolist()
        scores = [score for score, _ in results]
        bases = self._bases(scores)
        reruns = 0  # each puts at least one more chunk's gate right: at most one per chunk
        while train and reruns < n and self._first_wrong_gate(group, scores, bases) is not None:
            self._dispatch(self.model, group, train)  # with the true gates up to the wrong chunk's next
            results = np.asarray(group.out)[:n].tolist()
            scores = [score for score, _ in results]
            bases = self._bases(scores)
            reruns += 1
        for k, ((lo, hi), (score, loss)) in enumerate(zip(group.spans, results, strict=True)):
            if not (np.isfinite(score) and np.isfinite(loss)):
                events.append(self._reset(prep, lo, hi, score, loss))
                return k
            if train:
                self._trained_chunks += 1
            thr = self._at(bases[k], self.sensitivity)
            self.scores.append(score)
            self.train_losses.append(loss)
            self.thresholds.append(thr)
            self._gates.append(self._at(bases[k], self.cfg.k))
            events.extend(self._score_events(batch, lo, hi, score, loss, thr))
        return len(group.spans)

    def _first_wrong_gate(
        self, group: _Group, scores: list[float], bases: list[tuple[float, float] | None]
    ) -> int | None:
        """The first chunk whose training decision its speculative gate got wrong (None: none did);
        then the group's gates are corrected up to the chunk after it (their scores are all known).
        `bases`: each chunk's baseline (`_bases`), so chunk k's true gate is chunk k-1's threshold."""

        def true(k: int) -> float:
            if k == 0:
                return self._true_gate(len(self.scores), [])
            return self._gate(self._at(bases[k - 1], self.cfg.k))

        for k, score in enumerate(scores):
            if not np.isfinite(score):
                return None  # a reset: nothing after it counts
            if (np.float32(score) > np.float32(group.gates[k])) != (np.float32(score) > np.float32(true(k))):
                for j in range(k, min(k + 2, len(scores))):
                    group.gates[j] = true(j)
                return k
        return None

    def _true_gate(self, index: int, pending: list[float]) -> float:
        """Training gate of the chunk with score index `index`: the threshold (at the configured k) of
        the chunk GATE_LAG before it, from the scores before that one (`pending`: scores of this
        group's chunks not yet recorded)."""
        pos = index - GATE_LAG
        thr = None
        if 0 <= pos < len(self.scores):
            thr = self._gates[pos]
        elif pos >= len(self.scores):
            thr = self._at(self._baseline(pending[: pos - len(self.scores)]), self.cfg.k)
        return self._gate(thr)

    def _gate(self, thr: float | None) -> float:
        """The gate a threshold makes (None: warm-up, where a trained net uses WARMUP_GATE x its
        reference score instead).

        The gate uses the configured k (`cfg.k`), not the user's sensitivity: moving the slider changes
        which chunks are flagged, never what the net learns, so re-flagging stored scores at any k gives
        what a run at that k would have flagged."""
        if not self.cfg.gate:
            return float("inf")
        if thr is not None:
            return thr
        return WARMUP_GATE * self.ref_score if self.ref_score else float("inf")

    def _speculative_gate(self) -> float:
        """What a call guesses for the gates it cannot know yet: the latest one it can."""
        return self._true_gate(len(self.scores) + GATE_LAG, [])

    def _bases(self, scores: list[float]) -> list[tuple[float, float] | None]:
        """(median, deviation) each chunk of a group is judged by, from the scores before it."""
        return [self._baseline(scores[:k]) for k in range(len(scores))]

    def _tensors(self, batch: ChunkBatch, lo: int, hi: int) -> ChunkTensors:
        """One chunk's tensors, normalised with the statistics of everything before it."""
        stats = batch.chunk_stats(lo, hi)
        if self.norm.count == 0:
            self.norm.merge(*stats)  # the very first chunk defines the scale it is scored with
        return batch.tensors(lo, hi, self.norm, self._prev, self.cfg, stats)

    def _reset(self, prep: Prepared, lo: int, hi: int, score: float, after: float) -> Alert:
        """A non-finite loss (diverged weights, poisoned statistics) would poison every later score and
        threshold: start over from the initial weights and statistics, and say so with an alert. The
        chunk gets no score (the score series stays finite)."""
        model = self.model  # built (and _initial's weights set) before any chunk ran
        weights, norm, trained = self._initial
        assert weights is not None  # taken when the model was built
        model.restore(weights)
        self.norm = RunningNorm.from_dict(norm)
        self._trained_chunks = trained
        self._prev = np.zeros(self.cfg.features)
        self.resets += 1
        span = (float(prep.time[lo:hi].min()), float(prep.time[lo:hi].max()), int(prep.frame[lo]),
                int(prep.frame[hi - 1]), int(prep.file[lo]))
        return reset_alert(
            self.protocol, span, hi - lo, chunk_talkers(prep, lo, hi), score, after, self.resets, self.name
        )

    def _baseline(self, pending: list[float]) -> tuple[float, float] | None:
        """(median, deviation) the chunk after the recorded scores and `pending` is judged by (None
        during warm-up)."""
        med, dev = peaks.latest_baseline(self._recent_scores(pending), **self._peak)
        return None if np.isnan(med) else (med, dev)

    @staticmethod
    def _at(base: tuple[float, float] | None, k: float) -> float | None:
        return None if base is None else base[0] + k * base[1]

    def _recent_scores(self, pending: list[float] | None = None, placeholder: bool = True) -> np.ndarray:
        """The score series (and `pending` scores after it, and a placeholder for the coming chunk),
        cut to the part the last entry's baseline can see: an O(window) cost per chunk, not O(chunks so
        far). The cut keeps enough in front that the warm-up and skip rules of peaks.latest_baseline
        read it as the whole series."""
        p = self._peak
        keep = p["window"] + max(p["warmup"], p["skip"]) + 1
        pending = pending or []
        if len(self.scores) + len(pending) + placeholder > keep:
            hist = (self.scores[-keep:] + pending)[-keep:]
        else:
            hist = self.scores + pending
        return np.asarray(hist + [0.0] if placeholder else hist, np.float64)

    def _warmup_review(self) -> list[Alert]:
        """Alerts for warm-up chunks that stand out among the run's first scores, raised once
        REVIEW_AFTER x warmup_chunks scores exist (or at the end of the source). Only for a detector
        started from trained weights (`rule.review`): a fresh net's early losses are it learning, not a
        baseline. Their ChunkScored events keep threshold None (that was the online decision); the
        alert says when and against what they were judged."""
        chunks, self._warmup_chunks = self._warmup_chunks or [], None
        return review_alerts(chunks, np.asarray(self.scores), self.rule, self.sensitivity, self.name)

    def _score_events(
        self, batch: ChunkBatch, lo: int, hi: int, score: float, after: float, thr: float | None
    ) -> list:
        """ChunkScored (and an Alert when flagged) for a settled chunk."""
        prep = batch.prep
        flagged = thr is not None and score > thr
        index = len(self.scores) - 1
        start, end = batch.span(lo, hi)
        first, last, file = int(prep.frame[lo]), int(prep.frame[hi - 1]), int(prep.file[lo])
        talkers = batch.talkers(lo, hi)
        chunk = ChunkScored(
            protocol=self.protocol, index=index, start=start, end=end, first_frame=first,
            last_frame=last, score=score, train_loss=after, flagged=bool(flagged), threshold=thr,
            file=file, talkers=talkers, messages=hi - lo, detector=self.name,
        )
        events: list = [chunk]
        if self._warmup_chunks is not None:
            if index < self.cfg.warmup_chunks:
                self._warmup_chunks.append(chunk)
            if len(self.scores) >= REVIEW_AFTER * self.cfg.warmup_chunks:
                events.extend(self._warmup_review())
        if flagged:
            assert thr is not None  # a chunk is flagged against a known threshold
            med, dev = peaks.latest_baseline(self._recent_scores(placeholder=False), **self._peak)
            events.append(chunk_alert(chunk, self.sensitivity, med, dev, self.name))
        return events
