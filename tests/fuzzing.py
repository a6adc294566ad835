"""Hypothesis profiles: `make test` and CI draw the same examples every run; `make fuzz` draws new ones.

The default profile `ci` is derandomized (each test's examples derive from its own name) with no example
database, so a green run stays green and a red one reproduces. `HYPOTHESIS_PROFILE=fuzz` (what `make fuzz`
sets, with a printed `--hypothesis-seed`) draws random examples, `FUZZ_SCALE` times as many per test.
"""

from __future__ import annotations

import os

from hypothesis import settings

FUZZ_SCALE = 20

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile(
    "fuzz", derandomize=False, database=None, print_blob=True, max_examples=100 * FUZZ_SCALE
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """`n` examples per test in the deterministic profile, `FUZZ_SCALE * n` in a fuzz run."""
    return n * FUZZ_SCALE if PROFILE == "fuzz" else n
