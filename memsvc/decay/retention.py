"""Ebbinghaus retention as MemoryBank (Zhong et al., AAAI 2024) uses it: R = exp(-t / S).

`t` is the time since the note was last recalled (or created), `S` its strength: 1 at
creation, +1 at each recall (which also resets `t`). Time is measured in a configurable unit
(`time_scale_days`): MemoryBank counts days; agents that talk rarely may want slower decay.
Times come from event timestamps and `as_of`, never the wall clock, so replaying a year of
history in a minute decays exactly as living through it would.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import numpy.typing as npt

SECONDS_PER_DAY = 86_400.0


def _elapsed_units(last: datetime, now: datetime, time_scale_days: float) -> float:
    if time_scale_days <= 0:
        raise ValueError("time_scale_days must be positive")
    seconds = (now - last).total_seconds()
    # A note recalled "in the future" of `now` (as_of in the past) has not decayed at all.
    return max(seconds, 0.0) / (time_scale_days * SECONDS_PER_DAY)


def retention(
    strength: float, last: datetime, now: datetime, time_scale_days: float = 1.0
) -> float:
    """R in (0, 1]: exp(-t / S)."""
    if strength <= 0:
        raise ValueError("strength must be positive")
    return math.exp(-_elapsed_units(last, now, time_scale_days) / strength)


def retention_many(
    strength: npt.ArrayLike, elapsed_seconds: npt.ArrayLike, time_scale_days: float = 1.0
) -> npt.NDArray[np.float64]:
    """Vectorised retention for many notes: `elapsed_seconds` = now - last recall, per note."""
    s = np.asarray(strength, dtype=np.float64)
    t = np.maximum(np.asarray(elapsed_seconds, dtype=np.float64), 0.0)
    if s.shape != t.shape:
        raise ValueError(f"shape mismatch: strength {s.shape} vs elapsed {t.shape}")
    if np.any(s <= 0):
        raise ValueError("strength must be positive")
    return np.exp(-(t / (time_scale_days * SECONDS_PER_DAY)) / s)


def reinforce(strength: float, last: datetime, now: datetime) -> tuple[float, datetime]:
    """A recall at `now`: strength + 1 and the clock restarts. A recall dated before the last
    one (replays out of order) adds strength but never moves the clock backwards."""
    return strength + 1.0, max(last, now)


def forget_horizon_days(strength: float, threshold: float, time_scale_days: float = 1.0) -> float:
    """Days without recall after which R falls under `threshold` (for docs and sweeps)."""
    if not 0 < threshold < 1:
        raise ValueError("threshold must be in (0, 1)")
    return -math.log(threshold) * strength * time_scale_days
