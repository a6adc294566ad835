"""Model checkpoints: one msgpack file holding format version, model kind, config, weights and
normalisation statistics. Never pickle (a checkpoint from a capture share must not run code);
written atomically (temp file + rename) so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from spear_tui.errors import UserError

FORMAT = "spear-tui-checkpoint"
VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    kind: str  # "stacked_lstm", "seq2seq", "novelty", ...
    config: dict[str, Any]  # plain JSON-like values
    params: dict[str, Any]  # nested dict of numpy arrays (e.g. nnx.State.to_pure_dict())
    extra: dict[str, Any]  # normalisation statistics, thresholds, training metrics


def _pack(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic) or type(obj).__module__.startswith("jax"):
        arr = np.asarray(obj)
        return {"__nd__": True, "dtype": arr.dtype.str, "shape": list(arr.shape), "data": arr.tobytes()}
    if isinstance(obj, dict):
        return {str(k): _pack(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_pack(v) for v in obj]
    return obj


def _unpack(obj: Any) -> Any:
    if isinstance(obj, dict):
        if obj.get("__nd__") is True:
            dtype = np.dtype(obj["dtype"])
            if dtype.hasobject:
                raise ValueError("object arrays are not allowed")
            return np.frombuffer(obj["data"], dtype=dtype).reshape(obj["shape"]).copy()
        return {k: _unpack(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unpack(v) for v in obj]
    return obj


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "kind": ckpt.kind,
        "config": _pack(ckpt.config),
        "params": _pack(ckpt.params),
        "extra": _pack(ckpt.extra),
    }
    data = msgpack.packb(payload, use_bin_type=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make shipped models unreadable to others
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, kind: str) -> Checkpoint:
    """Load and validate; any problem is a one-line UserError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    try:
        payload = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except Exception:
        raise UserError(f"{path} is not a spear-tui checkpoint (corrupt or wrong format)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UserError(f"{path} is not a spear-tui checkpoint")
    if payload.get("version") != VERSION:
        raise UserError(
            f"{path} has checkpoint version {payload.get('version')!r}; this spear-tui reads {VERSION}"
        )
    if payload.get("kind") != kind:
        raise UserError(f"{path} holds a {payload.get('kind')!r} model, expected {kind!r}")
    try:
        return Checkpoint(
            kind=kind,
            config=_unpack(payload["config"]),
            params=_unpack(payload["params"]),
            extra=_unpack(payload.get("extra", {})),
        )
    except (KeyError, ValueError, TypeError):
        raise UserError(f"{path} is a damaged spear-tui checkpoint") from None
