"""The many-series benchmark's pure parts: its arguments, process trees, growth and
comparisons."""

from __future__ import annotations

import math

import pytest

from bench.series import (
    DEFAULTS,
    better,
    growth,
    largest_difference,
    load_note,
    marginal,
    meets_growth_bar,
    parse_parts,
    step_bytes,
    tree_bytes,
)

# pid -> (parent, resident bytes, command line): a main whose train step runs in a shell with two
# joblib workers, beside an unrelated process.
PROCESSES = {
    10: (1, 100, "mlflow run . -P stores=10"),
    11: (10, 200, "python -m steps.main --stores 10"),
    12: (11, 50, "mlflow run . -e train"),
    13: (12, 5, "bash -c python -m steps.train --data runs:/x/data"),
    14: (13, 1000, "python -m steps.train --data runs:/x/data"),
    15: (14, 400, "python -m joblib.externals.loky.backend.popen_loky_posix"),
    16: (14, 400, "python -m joblib.externals.loky.backend.popen_loky_posix"),
    17: (11, 300, "python -m steps.prepare --product apples"),
    99: (1, 10_000, "python -m steps.train --data elsewhere"),
}


def test_parts_default_to_the_quick_ones_and_take_their_series_counts():
    assert parse_parts([]) == {name: DEFAULTS[name] for name in ("curve", "models", "ray")}
    assert parse_parts(["curve:10,10000", "chain"]) == {"curve": (10, 10000),
                                                        "chain": DEFAULTS["chain"]}
    with pytest.raises(SystemExit, match="unknown part 'curves'"):
        parse_parts(["curves"])


def test_a_tree_sums_its_processes_and_nothing_outside_it():
    assert tree_bytes(PROCESSES, 10) == 100 + 200 + 50 + 5 + 1000 + 400 + 400 + 300
    assert tree_bytes(PROCESSES, 14) == 1800


def test_a_step_counts_its_workers_once_and_not_the_shell_twice():
    assert step_bytes(PROCESSES, 10) == {"train": 5 + 1000 + 400 + 400, "prepare": 300}


def test_growth_is_each_point_over_the_previous_and_the_bar_starts_above_1000():
    points = [(10, 2.0), (100, 4.0), (1000, 40.0), (10000, 480.0)]
    assert growth(points) == [None, 2.0, 10.0, 12.0]
    assert meets_growth_bar(points) is True
    assert meets_growth_bar([*points[:3], (10000, 500.0)]) is False
    # 10 -> 1000 may grow faster (fixed costs dominate), and is not judged.
    assert meets_growth_bar(points[:3]) is None


def test_the_largest_difference_names_the_metric_and_treats_missing_as_infinite():
    assert largest_difference({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.5}) == ("b", 0.5)
    assert largest_difference({"a": math.nan}, {"a": math.nan}) == ("a", 0.0)
    assert largest_difference({"a": 1.0}, {"a": 1.0, "b": 0.0}) == ("b", math.inf)
    assert largest_difference({"a": 1.0}, {"a": math.nan})[1] == math.inf


def test_lower_scores_win_and_coverage_wins_nearest_its_target():
    assert better("rmse", 9.0, 10.0) == "global"
    assert better("series_mase_p90", 1.2, 1.1) == "per_series"
    assert better("coverage_80", 0.70, 0.85) == "per_series"
    assert better("mase", 1.0, 1.0) == "tie"


def test_marginal_is_what_each_point_adds_per_unit_over_the_previous():
    assert marginal([(10, 900.0), (100, 990.0), (1000, 1890.0)]) == [None, 1.0, 1.0]


def test_the_load_note_says_quiet_only_when_others_took_at_most_a_tenth_of_the_cores():
    assert load_note([0.01, 0.05]) == "The machine was otherwise quiet (others' load at most 5%)."
    assert load_note([0.01, 0.45]).startswith("Taken under load: other work took up to 45%")
