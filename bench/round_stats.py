"""bench/round_stats.py: how the load scripts summarise per-round ratios.

What it is for: every ratio the scripts report (an arm's server CPU per request over
/healthz's, taken within one round) is a handful of noisy samples from a shared machine whose
speed changes from minute to minute. The median with its min and max says where the rounds
fell; `median_ci` adds how well the median itself is known: a percentile bootstrap of the
median (resample the rounds with replacement, take each resample's median, keep the middle
`level` of those). A target is met robustly when the interval's upper end is below it, not
only the median.

Used by bench/guard-overhead.sh and bench/evidence-load.sh (imported with bench/ on
sys.path). Standard library only; deterministic (fixed seed), so the same rounds always give
the same interval.
"""
import random
import statistics


def spread(values):
    """[median, min, max] of `values`, or None if there are none."""
    if not values:
        return None
    return [statistics.median(values), min(values), max(values)]


# Fewer rounds than this get no interval: it would say nothing the min and max do not.
CI_ROUNDS_MIN = 5
# Resamples of the bootstrap: enough that the interval's ends are stable to the 3rd decimal.
CI_RESAMPLES = 10000


def median_ci(values, level=0.95, resamples=CI_RESAMPLES, seed=1):
    """[low, high]: the percentile-bootstrap interval of the median of `values` at `level`,
    or None with fewer than CI_ROUNDS_MIN values."""
    if len(values) < CI_ROUNDS_MIN:
        return None
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1.0 - level) / 2.0
    low = medians[int(tail * resamples)]
    high = medians[min(resamples - 1, int((1.0 - tail) * resamples))]
    return [low, high]


def ci_text(ci, digits=3):
    """'; 95 % CI of the median [low, high]' for an interval from median_ci, '' for None."""
    return "" if ci is None else f"; 95 % CI of the median [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
