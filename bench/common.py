"""Shared by bench/bench_*.py: methods timed in turns, their spread, a plain table."""

import statistics
from collections.abc import Callable, Sequence


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def interleaved(methods: dict[str, Callable[[], float]], *, rounds: int = 3, fewer: dict | None = None):
    """Seconds of each method per round, the methods taking turns within every round: on a shared
    machine a noisy minute then falls on a method and its baseline alike. `fewer` caps the rounds of
    a slow baseline (name -> rounds). Returns name -> list of seconds."""
    caps = fewer or {}
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    for round_no in range(rounds):
        for name, run in methods.items():
            if round_no < caps.get(name, rounds):
                seconds[name].append(run())
    return seconds


def spread(values: Sequence[float]) -> str:
    """Median and min-max, as printed beside every timed method."""
    if len(values) == 1:
        return f"{values[0]:.3f} (1 run)"
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def median_ratio(slow: Sequence[float], fast: Sequence[float]) -> float:
    """The ratio of medians: what every target is judged on."""
    return statistics.median(slow) / statistics.median(fast)
