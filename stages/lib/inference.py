"""Statistics that fit five values: t-intervals, Clopper-Pearson, paired equivalence (TOST),
and seed resampling for the stability of a pick.

With five seeds a percentile bootstrap interval of a mean under-covers (about 83 % for a nominal 95 % in
simulation), so means get Student-t intervals. A fraction of seeds (2 of 5 learned) gets an exact
Clopper-Pearson interval. "As good as" is shown, not assumed: two one-sided tests (TOST), i.e. the 90 %
t-interval of the paired difference lies inside +-margin. Bootstrap resampling is used for one thing only:
how often a rule would pick each candidate if the seeds had come out differently.
"""

import math
from collections import Counter

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
EQUIVALENCE_ALPHA = 0.05  # each one-sided test of TOST; together: the 90 % interval inside the margin
RESAMPLES = 2000  # seed resamples for the stability of each pick
RESAMPLE_SEED = 0  # fixed: the same runs always give the same shares


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval of the mean; NaN bounds for fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean()) if len(values) else math.nan
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact two-sided interval of a binomial proportion (0/5 -> [0, 0.522], 5/5 -> [0.478, 1] at 95 %)."""
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def tost_paired(reference, other, margin: float, alpha: float = EQUIVALENCE_ALPHA) -> dict:
    """Paired equivalence: is reference - other, seed by seed, within +-margin? Two one-sided t-tests at alpha,
    i.e. the (1 - 2 alpha) t-interval of the mean difference inside (-margin, +margin). Fewer than 2 pairs: no
    test, not equivalent (unless the difference is exactly 0 for every pair, as for an LR against itself)."""
    diff = np.asarray(reference, dtype=float) - np.asarray(other, dtype=float)
    mean, low, high = t_interval(diff, 1 - 2 * alpha)
    if math.isnan(low):
        equivalent = bool(len(diff)) and bool(np.all(diff == 0))
    else:
        equivalent = -margin < low and high < margin
    return {"diff_mean": mean, "diff_low": low, "diff_high": high, "equivalent": bool(equivalent)}


def paired_saving(reference_epochs, other_epochs, confidence: float = CONFIDENCE) -> dict:
    """Epochs saved by `other` against `reference`, seed by seed: the mean, its t-interval, and whether the
    saving is significant (the interval lies above 0)."""
    mean, low, high = t_interval(np.asarray(reference_epochs, float) - np.asarray(other_epochs, float), confidence)
    return {"saving_mean": mean, "saving_low": low, "saving_high": high,
            "significant": bool(not math.isnan(low) and low > 0)}


def seed_resamples(seeds: int, resamples: int = RESAMPLES, seed: int = RESAMPLE_SEED) -> np.ndarray:
    """(resamples, seeds) row indices drawn with replacement: one draw of seeds used for every LR (paired)."""
    return np.random.default_rng(seed).integers(0, seeds, size=(resamples, seeds))


def leave_one_out(seeds: int) -> list[np.ndarray]:
    return [np.array([i for i in range(seeds) if i != left]) for left in range(seeds)]


def shares(picks: list) -> dict:
    """How often each value was picked, most often first: {value: share}. None counts as a value."""
    counts = Counter(picks)
    return {value: n / len(picks) for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}
