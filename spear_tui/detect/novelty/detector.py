"""NoveltyDetector: learn who does what, then alert on first-seen tuples and rate jumps.

Runs beside the LSTMs on the same message tables and is called the same way (`feed` per batch,
`flush` at the end). Everything per message is polars; Python runs per anomalous group (an actor
in a batch) and per alert, never per message of normal traffic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from spear_tui.detect.lstm.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from spear_tui.detect.novelty.bacnet import BacnetRules
from spear_tui.detect.novelty.base import ProtocolRules
from spear_tui.detect.novelty.episodes import Episode, EpisodeBook
from spear_tui.detect.novelty.modbus import ModbusRules
from spear_tui.detect.novelty.mqtt import MqttRules
from spear_tui.detect.novelty.rates import RateState
from spear_tui.errors import UserError
from spear_tui.events import Alert
from spear_tui.scalars import num

RULESETS: dict[str, type[ProtocolRules]] = {"modbus": ModbusRules, "mqtt": MqttRules, "bacnet": BacnetRules}
RULES: dict[str, dict[str, str]] = {p: dict(cls.RULES) for p, cls in RULESETS.items()}
DEFAULT_LEARN_SECONDS = 300.0
BASELINE_KIND = "novelty"
MAX_TALKERS = 16


class NoveltyDetector:
    """Protocol-aware novelty rules for one protocol's message table.

    learn_messages / learn_seconds: the learning period (every limit given must be reached; with
    neither and no baseline, `DEFAULT_LEARN_SECONDS` of capture time). `baseline` loads a saved
    baseline instead and starts detecting at once. `rate_sensitivity` divides every rate threshold
    (2.0 = alert at half the rate). `window` is the rate window, `hold` the quiet capture time that
    ends an episode, `max_hold` the longest an episode stays open before it becomes an alert.
    """

    name = "novelty"

    def __init__(
        self,
        protocol: str,
        *,
        learn_messages: int | None = None,
        learn_seconds: float | None = None,
        baseline: str | Path | None = None,
        rate_sensitivity: float = 1.0,
        window: float = 10.0,
        hold: float = 5.0,
        max_hold: float = 60.0,
    ) -> None:
        if protocol not in RULESETS:
            raise UserError(f"novelty rules know {', '.join(RULESETS)}, not {protocol!r}")
        if rate_sensitivity <= 0 or window <= 0:
            raise UserError("novelty rate sensitivity and window must be positive")
        self.protocol = protocol
        self.rules = RULESETS[protocol]()
        self.enabled_rules: set[str] = set(self.rules.RULES)
        self.sensitivity = float(rate_sensitivity)
        self.window = float(window)
        self.hold = float(hold)
        self._rates = [RateState(r, self.window) for r in self.rules.rate_rules()]
        self._book = EpisodeBook(max_hold, self._closed)
        self._out: list[Alert] = []
        self._now = -math.inf
        self._rate_done: dict[tuple[str, str], int] = {}  # last window already alerted, per rate key
        self.learning = True
        self._accepts: list[dict[str, list[Any]]] = []  # accepted from another thread, not yet applied
        self.learned_messages = 0
        self.learn_start: float | None = None
        self.learn_end: float | None = None
        if learn_messages is None and learn_seconds is None and baseline is None:
            learn_seconds = DEFAULT_LEARN_SECONDS
        self.learn_messages = learn_messages
        self.learn_seconds = learn_seconds
        if baseline is not None:
            self.load_baseline(baseline)

    # --- the engine's calls -------------------------------------------------------------------
    def feed(self, table: pl.DataFrame) -> list[Alert]:
        if table.height == 0:
            return []
        if self._accepts:
            self._apply_accepts()
        t = self.rules.prepare(table)
        if self.learning:
            cut = self._learning_cut(t)
            if cut:
                self._learn(t.head(cut))
            if cut < t.height or self._limits_reached():
                self._finish_learning()
            t = t.slice(cut)
        now = max(self._now, num(table["time"].max()))
        self._now = now
        if not self.learning and t.height:
            self._detect(t, now)
        self._book.due(now)
        return self._take()

    def flush(self) -> list[Alert]:
        self._book.drain()
        return self._take()

    def advance(self, now: float) -> list[Alert]:
        """Close episodes that are over at capture/wall time `now` (a live source gone quiet)."""
        self._now = max(self._now, now)
        self._book.due(self._now)
        return self._take()

    def _take(self) -> list[Alert]:
        out, self._out = self._out, []
        return sorted(out, key=lambda a: (a.start, a.first_frame))

    # --- learning ------------------------------------------------------------------------------
    def _learning_cut(self, t: pl.DataFrame) -> int:
        if self.learn_start is None:
            self.learn_start = num(t["time"].min())
        cuts = []
        if self.learn_messages is not None:
            cuts.append(max(0, self.learn_messages - self.learned_messages))
        if self.learn_seconds is not None:
            end = self.learn_start + self.learn_seconds
            cuts.append(int((t["time"] < end).sum()))
        return min(t.height, max(cuts))

    def _limits_reached(self) -> bool:
        ok = True
        if self.learn_messages is not None:
            ok &= self.learned_messages >= self.learn_messages
        if self.learn_seconds is not None:
            ok &= (self.learn_end or -math.inf) >= (self.learn_start or 0.0) + self.learn_seconds
        return ok

    def _learn(self, t: pl.DataFrame) -> None:
        self.learned_messages += t.height
        self.learn_end = max(self.learn_end or -math.inf, num(t["time"].max()))
        self.rules.learn(t)
        for st in self._rates:
            st.learn(t)

    def _finish_learning(self) -> None:
        start = self.learn_start or 0.0
        end = self.learn_end if self.learn_end is not None else start
        if self.learn_seconds is not None:
            end = max(end, start + self.learn_seconds)
        self.learn_end = end
        for st in self._rates:
            st.finish(start, end)
        self.learning = False

    # --- detection -----------------------------------------------------------------------------
    def _detect(self, t: pl.DataFrame, now: float) -> None:
        enabled = self.enabled_rules
        self.rules.detect(t, enabled, self._book, self.hold)
        for st in self._rates:
            name = st.rule.name
            if name not in enabled:
                continue
            for row in st.detect(t, now, max(float(self.sensitivity), 1e-9)):  # a slider at 0 must not crash
                if row["bin"] <= self._rate_done.get((name, row["key"]), -1):
                    continue  # this window is already in an alert that closed
                ep = self._book.touch(
                    name,
                    row["key"],
                    int(row["file"]),
                    row["t0"],
                    row["t1"],
                    int(row["f0"]),
                    int(row["f1"]),
                    0,
                    row["senders"],
                    self.window,
                )
                d = ep.detail
                d.setdefault("bins", {})[row["bin"]] = int(row["n"])
                d["thr"] = float(row["thr"])
                d["learned_peak"] = row["peak"]
                d.setdefault("details_by_bin", {})[row["bin"]] = row.get("details") or {}
                d.setdefault("senders_by_bin", {})[row["bin"]] = row["senders"]

    def _closed(self, ep: Episode) -> None:
        """An episode is over: describe it as one alert; what it showed is known from now on."""
        if ep.rule not in self.enabled_rules:
            return
        if "bins" in ep.detail:
            reason, severity = self.rules.describe_rate(ep, self.window)
            accept = ""
            score, threshold = float(max(ep.detail["bins"].values())), float(ep.detail["thr"])
            self._rate_done[(ep.rule, ep.actor)] = max(ep.detail["bins"])
        else:
            reason, severity = self.rules.describe(ep)
            score, threshold = float(ep.count), 0.0
            adds = self.rules.additions(ep)
            self.rules.apply(adds)
            accept = json.dumps({k: [list(r) for r in v] for k, v in adds.items()}, separators=(",", ":"))
        self._out.append(
            Alert(
                protocol=self.protocol,
                detector=self.name,
                start=ep.start,
                end=ep.end,
                first_frame=ep.first_frame,
                last_frame=ep.last_frame,
                score=score,
                threshold=threshold,
                reason=reason,
                talkers=tuple(sorted(ep.talkers))[:MAX_TALKERS],
                severity=severity,
                file=ep.file,
                detectors=(self.name,),
                accept=accept,
            )
        )

    def accept_later(self, adds: dict[str, list[Any]]) -> None:
        """Accept from another thread (the console): applied by the feeding thread at its next call."""
        self._accepts.append(adds)

    def _apply_accepts(self) -> None:
        while self._accepts:
            self.accept(self._accepts.pop(0))

    def accept(self, adds: dict[str, list[Any]]) -> int:
        """Treat these known-set rows (an accepted alert's `accept`) as normal from now on."""
        try:
            return self.rules.apply(adds)
        except (ValueError, TypeError, pl.exceptions.PolarsError) as exc:
            raise UserError(f"cannot accept into the {self.protocol} baseline: {exc}") from None

    # --- baseline persistence ------------------------------------------------------------------
    def baseline_dict(self) -> dict[str, Any]:
        """The learned baseline as plain lists/numbers (to embed in another checkpoint)."""
        if self.learning:
            self._finish_learning()
        return {
            "protocol": self.protocol,
            "window": self.window,
            "learned": {
                "messages": self.learned_messages,
                "start": self.learn_start,
                "end": self.learn_end,
            },
            "rules": self.rules.to_dict(),
            "rates": {st.rule.name: st.to_dict() for st in self._rates},
        }

    def load_baseline_dict(self, data: dict[str, Any], where: str = "baseline") -> None:
        try:
            if data["protocol"] != self.protocol:
                raise UserError(f"{where} is a {data['protocol']} baseline, not {self.protocol}")
            self.rules.load(data["rules"])
            for st in self._rates:
                st.load(data["rates"][st.rule.name])
            learned = data["learned"]
            self.learned_messages = int(learned["messages"])
            self.learn_start, self.learn_end = learned["start"], learned["end"]
        except UserError:
            raise
        except (KeyError, TypeError, ValueError, pl.exceptions.PolarsError):
            raise UserError(f"{where} is a damaged novelty baseline") from None
        self.learning = False

    def save_baseline(self, path: str | Path) -> None:
        data = self.baseline_dict()
        save_checkpoint(
            path,
            Checkpoint(
                kind=BASELINE_KIND,
                config={"protocol": self.protocol, "window": self.window},
                params={},
                extra=data,
            ),
        )

    def load_baseline(self, path: str | Path) -> None:
        ckpt = load_checkpoint(path, BASELINE_KIND)
        self.load_baseline_dict(ckpt.extra, where=str(path))
