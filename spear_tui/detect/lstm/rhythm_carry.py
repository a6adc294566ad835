"""The per-talker rhythm feature across batches: each talker's last message time and gap carried over.

Why: `features.rhythm_feature` sees one table at a time, so a talker's first two messages in every table
got rhythm 0, and which messages those are depends on how the engine happened to batch the stream
(tshark's pace): the same capture scored differently run to run (measured: rhythm-view scores of
normal.pcapng.gz moved by up to 0.01 between two scans). With the carry, a talker's rhythm is computed
against its previous messages whatever batch they came in, so the scores no longer depend on batching.

Keys are stable names (talker label, message type code, direction), not a table's own codes. A carried
key whose last time is after the table's first message of that key is ignored: offline training feeds
the same normal table epoch after epoch, and time going back means a new pass, not a gap.
"""

from __future__ import annotations

import numpy as np

from spear_tui.detect.lstm.features import rhythm_feature

MAX_KEYS = 50_000  # talkers x types x directions remembered; past it the longest-silent half is forgotten


class RhythmCarry:
    """Last time and last gap (NaN: only one message seen) per stable rhythm key."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, int, int], tuple[float, float]] = {}

    def feature(
        self, key: np.ndarray, names: list[str], time: np.ndarray, from_server: np.ndarray
    ) -> np.ndarray:
        """`rhythm_feature` of a table whose keys are `(code * 512 + type) * 2 + from_server` with
        `names[code]` the talker, continuing each key's rhythm from the tables before it."""
        uniq, first = np.unique(key, return_index=True)
        stable = [(names[int(u) // 1024], int(u) // 2 % 512, int(u) % 2) for u in uniq]
        pk: list[int] = []
        pt: list[float] = []
        for u, s, i in zip(uniq, stable, first, strict=True):  # one per distinct key (tens), not per message
            held = self.last.get(s)
            if held is None or held[0] > time[i]:
                continue
            t_last, gap = held
            if np.isfinite(gap):
                pk.append(int(u))
                pt.append(t_last - gap)
            pk.append(int(u))
            pt.append(t_last)
        m = len(pk)
        if m:
            key_all = np.concatenate([np.asarray(pk, key.dtype), key])
            time_all = np.concatenate([np.asarray(pt, np.float64), time])
            fs_all = np.concatenate([np.zeros(m, bool), from_server])
            out = rhythm_feature(key_all, time_all, fs_all)[m:]
        else:
            key_all, time_all = key, time
            out = rhythm_feature(key, time, from_server)
        self._remember(key_all, time_all, uniq, stable)
        return out

    def _remember(self, key: np.ndarray, time: np.ndarray, uniq: np.ndarray, stable: list) -> None:
        """Each key's last time and last gap, over the carried rows and the table (capture order)."""
        order = np.argsort(key, kind="stable")
        k, t = key[order], time[order]
        last = np.r_[k[1:] != k[:-1], True]  # last row of each key in the sorted order
        idx = np.flatnonzero(last)
        has_prev = np.r_[False, k[1:] == k[:-1]][idx]
        gaps = np.where(has_prev, t[idx] - t[np.maximum(idx - 1, 0)], np.nan)
        by_key = {int(kk): (float(tt), float(g)) for kk, tt, g in zip(k[idx], t[idx], gaps, strict=True)}
        for u, s in zip(uniq, stable, strict=True):
            self.last[s] = by_key[int(u)]
        if len(self.last) > MAX_KEYS:  # bounded however many talkers come and go (hostile client ids)
            keep = sorted(self.last.items(), key=lambda kv: kv[1][0])[len(self.last) // 2 :]
            self.last = dict(keep)
