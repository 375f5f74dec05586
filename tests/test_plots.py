"""grocery.plots: the three evaluation pictures and the permutation importances."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from grocery.plots import (
    MAX_POINTS,
    predicted_vs_actual,
    residuals_over_time,
)

RNG = np.random.default_rng(0)
ROWS = MAX_POINTS + 500  # more than a picture shows: the plots sample
INPUTS = pd.DataFrame({"signal": RNG.normal(size=ROWS), "noise": RNG.normal(size=ROWS)})
ACTUAL = pd.Series(3 * INPUTS["signal"] + RNG.normal(0, 0.1, ROWS))


def test_predicted_vs_actual_and_residuals_are_figures_of_at_most_max_points():
    predicted = ACTUAL.to_numpy() + 1
    scatter = predicted_vs_actual(ACTUAL.to_numpy(), predicted, "milk, ridge")
    assert isinstance(scatter, Figure) and scatter.axes[0].get_title() == "milk, ridge"
    assert len(scatter.axes[0].collections[0].get_offsets()) == MAX_POINTS
    dates = pd.Series(pd.date_range("2020-01-01", periods=ROWS, freq="D"))
    residuals = residuals_over_time(dates, ACTUAL.to_numpy(), predicted, "t")
    line = residuals.axes[0].lines[0]
    assert len(line.get_xdata()) == MAX_POINTS
    np.testing.assert_allclose(line.get_ydata(), -1.0)  # actual - predicted
