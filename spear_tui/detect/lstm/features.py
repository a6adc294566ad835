"""Message table -> the LSTM's (type, length) features, vectorised (polars/numpy, no per-row Python).

Encoding (same for every protocol; the decoder fills `msgtype`/`length` per protocol: MQTT control
packet type / `mqtt.len`, Modbus function code / `mbtcp.len`, BACnet APDU type / BVLC length):
  feature 0 = msgtype (null -> -1), feature 1 = log1p(length) (null -> 0);
  log because lengths span 2 bytes to kilobytes and one huge payload must not dwarf the rest.
Both are z-scored with running statistics (`RunningNorm`, saved in the checkpoint).
Optional feature 2 (`timing=True`, LSTMConfig.timing): per-talker rhythm, log of the ratio between a
message's gap since the previous message of the same talker, type and direction and that previous gap
(0 where the talker has no two earlier such messages in the batch; 0 for what the server sends and, in
MQTT, for a client's acknowledgements: their timing is other clients'). A sensor publishing every 100 ms
gives ~0; the same messages sent in another order by the same real clients (an interleaving change:
each message and the global timing unchanged) break every client's rhythm. Measured in BENCHMARKS.md
"Shuffle experiment on recorded clients".

Sequence design (`mode`), applied within each 500-message chunk before cutting it into 50 x 10:
  "paper"     messages in capture order, both directions interleaved (the paper's setting);
  "direction" stable-grouped by direction (client->server first, then server->client);
  "flow"      stable-grouped by connection (unordered endpoint pair), each in capture order, so
              a request is followed by its response and not by some other client's message.
The server side of a message is guessed as the smaller port (1883, 502, 47808 are all below the
ephemeral range); equal ports (BACnet 47808<->47808) fall back to comparing addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

CLIP = 3.0


@dataclass
class RunningNorm:
    """Per-feature running mean/variance (Chan/Welford merge of chunk statistics)."""

    count: float = 0.0
    mean: np.ndarray = field(default_factory=lambda: np.zeros(2))
    m2: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lo: np.ndarray = field(default_factory=lambda: np.full(2, np.inf))
    hi: np.ndarray = field(default_factory=lambda: np.full(2, -np.inf))
    scaling: str = "zclip"  # "zscore" | "zclip" (z-score clipped to +-CLIP) | "minmax" (running range)

    @classmethod
    def empty(cls, features: int, scaling: str = "zclip") -> RunningNorm:
        """No statistics yet, for `features` columns."""
        return cls(0.0, np.zeros(features), np.zeros(features), np.full(features, np.inf),
                   np.full(features, -np.inf), scaling)

    def merge(self, n: float, mu: np.ndarray, m2: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Add a chunk's statistics (see `chunk_stats`), computed beforehand for a whole batch."""
        total = self.count + n
        delta = mu - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total
        self.lo = np.minimum(self.lo, lo)
        self.hi = np.maximum(self.hi, hi)

    @property
    def std(self) -> np.ndarray:
        var = self.m2 / max(self.count, 1.0)
        return np.sqrt(np.maximum(var, 1e-4))  # a constant feature is scaled by 1/0.01, not by 1/0

    def apply(self, x: np.ndarray) -> np.ndarray:
        if self.scaling == "minmax":
            span = np.maximum(self.hi - self.lo, 1e-6)
            return np.clip((x - self.lo) / span, -1.0, 2.0).astype(np.float32)
        z = (x - self.mean) / self.std
        if self.scaling == "zclip":
            z = np.clip(z, -CLIP, CLIP)
        return z.astype(np.float32)

    def to_dict(self) -> dict:
        return {"count": self.count, "mean": np.asarray(self.mean), "m2": np.asarray(self.m2),
                "lo": np.asarray(self.lo), "hi": np.asarray(self.hi), "scaling": self.scaling}

    @classmethod
    def from_dict(cls, d: dict) -> RunningNorm:
        return cls(
            float(d["count"]), np.asarray(d["mean"], np.float64), np.asarray(d["m2"], np.float64),
            np.asarray(d.get("lo", np.full(2, np.inf)), np.float64),
            np.asarray(d.get("hi", np.full(2, -np.inf)), np.float64), str(d.get("scaling", "zclip")),
        )


def chunk_stats(chunks: np.ndarray) -> tuple[np.ndarray, ...]:
    """(count, mean, M2, min, max) of each chunk of `chunks` (k, n, F), all chunks at once: the
    online detector merges one per chunk, and four reductions per chunk were a tenth of its time."""
    n = np.full(len(chunks), float(chunks.shape[1]))
    mu = chunks.mean(axis=1, dtype=np.float64)
    m2 = ((chunks - mu[:, None]) ** 2).sum(axis=1, dtype=np.float64)
    return n, mu, m2, chunks.min(axis=1), chunks.max(axis=1)


def raw_features(table: pl.DataFrame) -> np.ndarray:
    """(n, 2) float64: msgtype, log1p(length)."""
    t = table.get_column("msgtype").fill_null(-1).to_numpy().astype(np.float64)
    n = table.get_column("length").fill_null(0).to_numpy().astype(np.float64)
    return np.stack([t, np.log1p(np.maximum(n, 0.0))], axis=1)


RHYTHM_CLIP = 5.0  # |log gap ratio| cap: one stalled client must not dwarf the rest
RHYTHM_EPS = 1e-3  # seconds added to both gaps: back-to-back messages do not make log(0)
RHYTHM_CLIENT_ONLY = True  # rhythm of client->server messages only (what a server sends a subscriber
# follows the other clients' timing: noise)
RHYTHM_ABS = False  # |log ratio| instead of the signed ratio
RHYTHM_TYPES: tuple[int, ...] | None = None  # override of the types that carry a rhythm (experiments)
# MQTT messages a client sends on its own initiative (CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
# DISCONNECT): its acknowledgements (PUBACK...) follow the broker's forwarding, i.e. other clients'
# timing, so their gap ratios are noise (BENCHMARKS.md "online, peaks, features: the detector's own Python").
MQTT_INITIATIVE = (1, 3, 8, 10, 12, 14)


def rhythm_feature(key: np.ndarray, time: np.ndarray, from_server: np.ndarray | None = None) -> np.ndarray:
    """(n,) float64: log((gap + eps) / (previous gap + eps)) per `key` (talker x type x direction),
    in capture order; 0 for a key's first two messages. Vectorised: one stable sort by key."""
    n = len(key)
    out = np.zeros(n)
    if n < 3:
        return out
    order = np.argsort(key, kind="stable")
    k, t = key[order], time[order]
    same1 = np.r_[False, k[1:] == k[:-1]]  # has a previous message of its key
    gap = np.where(same1, np.r_[0.0, np.diff(t)], np.nan)
    prev = np.r_[np.nan, gap[:-1]]
    ok = same1 & np.r_[False, same1[:-1]]  # has two previous messages of its key
    ratio = np.where(ok, np.log((np.maximum(gap, 0) + RHYTHM_EPS) / (np.maximum(prev, 0) + RHYTHM_EPS)), 0.0)
    out[order] = np.clip(np.nan_to_num(ratio), -RHYTHM_CLIP, RHYTHM_CLIP)
    if RHYTHM_ABS:
        out = np.abs(out)
    if RHYTHM_CLIENT_ONLY and from_server is not None:
        out[from_server] = 0.0
    return out


def _server_side(table: pl.DataFrame) -> pl.Expr:
    """True where the message is sent by the server (smaller port; ties broken by address)."""
    sport = pl.col("sport").fill_null(0)
    dport = pl.col("dport").fill_null(0)
    return (sport < dport) | ((sport == dport) & (pl.col("src").fill_null("") > pl.col("dst").fill_null("")))


def client_endpoints(table: pl.DataFrame) -> pl.DataFrame:
    """Per message: the client end of its connection (`caddr`, `cport`) and `from_server`."""
    srv = _server_side(table)
    return table.select(
        from_server=srv,
        caddr=pl.when(srv).then(pl.col("dst")).otherwise(pl.col("src")),
        cport=pl.when(srv).then(pl.col("dport")).otherwise(pl.col("sport")),
        saddr=pl.when(srv).then(pl.col("src")).otherwise(pl.col("dst")),
        sport_=pl.when(srv).then(pl.col("sport")).otherwise(pl.col("dport")),
    )


@dataclass
class Prepared:
    """Per-message arrays for a whole batch, computed once with polars; chunks then slice numpy arrays."""

    raw: np.ndarray  # (n, 2) float64 raw features
    from_server: np.ndarray  # (n,) bool
    flow: np.ndarray  # (n,) int64 connection code (unordered endpoint pair)
    talker: np.ndarray  # (n,) int64 index into talker_names
    talker_names: list[str]
    host: np.ndarray  # (n,) int64 index into host_names: the client's address
    host_names: list[str]
    time: np.ndarray  # (n,) float64
    frame: np.ndarray  # (n,) int64
    file: np.ndarray  # (n,) int64


def prepare(
    table: pl.DataFrame, protocol: str, client_ids: dict[tuple[str, int], str] | None = None,
    timing: bool = False,
) -> Prepared:
    """Everything the detector needs per message, vectorised over the whole table (with `timing`, the
    raw features get the per-talker rhythm column of this table alone: `with_rhythm`)."""
    ends = client_endpoints(table)
    # A flow only needs an id that is equal within the chunk: a 64-bit hash of the endpoint pair
    # (cheaper than ranking the joined strings: BENCHMARKS.md "online, peaks, features").
    flow = ends.select(
        pl.struct(
            pl.col("caddr").fill_null(""), pl.col("cport").fill_null(0),
            pl.col("saddr").fill_null(""), pl.col("sport_").fill_null(0),
        ).hash(seed=0).alias("k")
    ).get_column("k")
    labels = _talker_labels(table, ends, protocol, client_ids or {})
    codes, names = _codes(labels)
    hosts = ends.get_column("caddr").fill_null("?") if protocol == "mqtt" else labels
    host_codes, host_names = _codes(hosts)
    n = table.height
    col = table.get_column
    prep = Prepared(
        raw=raw_features(table),
        from_server=ends.get_column("from_server").to_numpy().astype(bool),
        flow=flow.to_numpy(),
        talker=codes,
        talker_names=names,
        host=host_codes,
        host_names=host_names,
        time=col("time").fill_null(0.0).to_numpy().astype(np.float64),
        frame=col("frame").fill_null(0).to_numpy().astype(np.int64),
        file=col("file").fill_null(0).to_numpy().astype(np.int64) if "file" in table.columns
        else np.zeros(n, np.int64),
    )
    return with_rhythm(prep, table, protocol) if timing else prep


def with_rhythm(prep: Prepared, table: pl.DataFrame, protocol: str, carry: Any = None) -> Prepared:
    """`prep` with the per-talker rhythm column after its raw features (`rhythm_feature`; `carry`
    continues each talker's rhythm from the tables before)."""
    msgtype = table.get_column("msgtype").fill_null(-1).to_numpy().astype(np.int64)
    key = (prep.talker * 512 + (msgtype + 1) % 256) * 2 + prep.from_server
    if carry is not None:
        rhythm = carry.feature(key, prep.talker_names, prep.time, prep.from_server)
    else:
        rhythm = rhythm_feature(key, prep.time, prep.from_server)
    types = RHYTHM_TYPES if RHYTHM_TYPES is not None else MQTT_INITIATIVE if protocol == "mqtt" else None
    if types is not None:
        rhythm[~np.isin(msgtype, types)] = 0.0
    return replace(prep, raw=np.concatenate([prep.raw, rhythm[:, None]], axis=1))


def _codes(values: pl.Series) -> tuple[np.ndarray, list[str]]:
    """(index of each value in the sorted distinct values, those values); a binary search per value
    was faster than a dense rank plus a separate unique (BENCHMARKS.md "online, peaks, features")."""
    names = values.unique().sort()
    return names.search_sorted(values).cast(pl.Int64).to_numpy(), names.to_list()


def _talker_labels(
    table: pl.DataFrame, ends: pl.DataFrame, protocol: str, client_ids: dict[tuple[str, int], str]
) -> pl.Series:
    """MQTT: the client of each message's connection, by clientid when its CONNECT was seen, else by
    address. Modbus/BACnet: the sending address."""
    if protocol != "mqtt":
        return table.get_column("src").fill_null("?").alias("t")
    ends = ends.select("caddr", pl.col("cport").cast(pl.Int32))
    if client_ids:
        lut = pl.DataFrame(
            {"caddr": [k[0] for k in client_ids], "cport": [k[1] for k in client_ids],
             "name": list(client_ids.values())},
            schema={"caddr": pl.Utf8, "cport": pl.Int32, "name": pl.Utf8},
        )
        ends = ends.join(lut, on=["caddr", "cport"], how="left", maintain_order="left")
        label = pl.coalesce(pl.col("name"), pl.col("caddr")).fill_null("?").alias("t")
        return ends.select(label).get_column("t")
    return ends.get_column("caddr").fill_null("?").alias("t")


def chunk_order(prep: Prepared, lo: int, hi: int, mode: str) -> np.ndarray:
    """Order (indices relative to lo) in which messages lo..hi-1 are fed to the LSTM."""
    n = hi - lo
    if mode == "paper" or n == 0:
        return np.arange(n)
    if mode == "direction":
        key = prep.from_server[lo:hi].astype(np.int64)
    elif mode == "flow":
        # Flows ordered by first appearance in the chunk; messages within a flow in capture order.
        _, first, inv = np.unique(prep.flow[lo:hi], return_index=True, return_inverse=True)
        key = first[inv]
    else:
        raise ValueError(f"unknown sequence mode {mode!r}")
    return np.argsort(key, kind="stable")


def batch_order(prep: Prepared, n: int, mode: str) -> np.ndarray:
    """`chunk_order` of every full n-message chunk of `prep` at once: (chunks, n) indices relative to
    each chunk's start (two row-wise sorts for the batch instead of a unique and a sort per chunk)."""
    k = len(prep.raw) // n
    if mode == "paper":
        return np.tile(np.arange(n), (k, 1))
    if mode == "direction":
        return np.argsort(prep.from_server[: k * n].reshape(k, n).astype(np.int64), axis=1, kind="stable")
    if mode != "flow":
        raise ValueError(f"unknown sequence mode {mode!r}")
    if k == 0:
        return np.zeros((0, n), np.int64)
    flow = prep.flow[: k * n].reshape(k, n)
    by_flow = np.argsort(flow, axis=1, kind="stable")  # each flow's messages together, in capture order
    grouped = np.take_along_axis(flow, by_flow, axis=1)
    new = np.ones((k, n), bool)
    new[:, 1:] = grouped[:, 1:] != grouped[:, :-1]
    group = np.cumsum(new, axis=1) - 1  # index of the flow within its chunk, in that sorted order
    first = by_flow[new]  # each flow's first position, chunk by chunk
    base = np.concatenate([[0], np.cumsum(group[:, -1] + 1)[:-1]])
    key = np.empty((k, n), np.int64)
    np.put_along_axis(key, by_flow, first[base[:, None] + group], axis=1)
    return np.argsort(key, axis=1, kind="stable")


CROWD = 3  # an address with at least this many client ids in a chunk is named as one talker


def batch_talkers(prep: Prepared, n: int, top: int = 3) -> list[tuple[str, ...]]:
    """`chunk_talkers` of every full n-message chunk of `prep`, vectorised: one unique and two bincounts
    for the batch. Chunks with a crowd (rare: floods) go through `chunk_talkers` itself."""
    k = len(prep.talker) // n
    if k == 0:
        return []
    nt, nh = len(prep.talker_names), len(prep.host_names)
    talker, host = prep.talker[: k * n], prep.host[: k * n]
    chunk = np.repeat(np.arange(k), n)
    pairs = np.unique((chunk * nh + host) * nt + talker)
    ids_per_host = np.bincount(pairs // nt, minlength=k * nh).reshape(k, nh)
    crowded = np.asarray((ids_per_host >= CROWD).any(axis=1))
    counts = np.bincount(chunk * nt + talker, minlength=k * nt).reshape(k, nt)
    idx = np.argsort(-counts, axis=1, kind="stable")[:, :top]
    out = []
    for c in range(k):
        if crowded[c]:
            out.append(chunk_talkers(prep, c * n, (c + 1) * n, top))
        else:
            out.append(tuple(prep.talker_names[i] for i in idx[c] if counts[c, i] > 0))
    return out


def chunk_talkers(prep: Prepared, lo: int, hi: int, top: int = 3) -> tuple[str, ...]:
    """The clients/devices with the most messages in lo..hi-1, most first (ties: by name).

    An address speaking under CROWD or more client ids in the chunk (a CONNECT flood from one host) is
    counted as one talker, "ADDRESS (N client ids)", instead of N small ones that would never make the top.
    """
    talker, host = prep.talker[lo:hi], prep.host[lo:hi]
    pairs = np.unique(host * len(prep.talker_names) + talker)
    ids_per_host = np.bincount(pairs // len(prep.talker_names), minlength=len(prep.host_names))
    crowd = ids_per_host >= CROWD
    if not crowd.any():
        counts = np.bincount(talker, minlength=len(prep.talker_names))
        idx = np.argsort(-counts, kind="stable")[:top]
        return tuple(prep.talker_names[i] for i in idx if counts[i] > 0)
    in_crowd = crowd[host]
    named = np.bincount(talker[~in_crowd], minlength=len(prep.talker_names))
    hosts = np.bincount(host[in_crowd], minlength=len(prep.host_names))
    cands = [(-int(c), prep.talker_names[i]) for i, c in enumerate(named) if c > 0]
    for h, c in enumerate(hosts):
        if c > 0:
            cands.append((-int(c), f"{prep.host_names[h]} ({ids_per_host[h]} client ids)"))
    return tuple(name for _, name in sorted(cands)[:top])


def sequence_order(table: pl.DataFrame, mode: str) -> np.ndarray:
    """Row order in which a chunk's messages are fed to the LSTM (a permutation of 0..n-1)."""
    if table.height == 0:
        return np.arange(0)
    return chunk_order(prepare(table, "modbus"), 0, table.height, mode)


def chunk_tensors(
    seq: np.ndarray, prev: np.ndarray, batch: int, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Next-message prediction pairs for one chunk of normalised features `seq` (chunk, F).

    Targets are the chunk's messages; inputs are the same stream shifted by one, starting with the
    previous chunk's last message `prev`, so every message is predicted exactly once.
    """
    x = np.concatenate([prev[None, :], seq[:-1]], axis=0)
    f = seq.shape[1]
    shape = (batch, seq_len, f)
    return x.reshape(shape).astype(np.float32), seq.reshape(shape).astype(np.float32)


def mqtt_client_ids(table: pl.DataFrame) -> dict[tuple[str, int], str]:
    """(client address, client port) -> clientid, from the CONNECT messages (type 1) in `table`."""
    if "clientid" not in table.columns:
        return {}
    rows = table.filter((pl.col("msgtype") == 1) & pl.col("clientid").is_not_null()).select(
        "src", "sport", "clientid"
    )
    return {(s, int(p)): c for s, p, c in rows.iter_rows()}


def top_talkers(
    table: pl.DataFrame, protocol: str, client_ids: dict[tuple[str, int], str] | None = None, top: int = 3
) -> tuple[str, ...]:
    """The clients/devices that dominate a table (plain strings: hostile text, never markup)."""
    if table.height == 0:
        return ()
    return chunk_talkers(prepare(table, protocol, client_ids), 0, table.height, top)
