"""grocery.capacity: a table too large for this machine stops in one line saying what fits."""

from __future__ import annotations

from argparse import Namespace

import pytest

from grocery.capacity import (
    BYTES_PER_ROW,
    FIXED_BYTES,
    GIB,
    cgroup_room,
    check_rows,
    free_memory,
    meminfo_available,
)
from grocery.errors import UserError
from grocery.parameters import check_capacity

MEMINFO = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n"


def test_the_available_memory_is_read_from_meminfo_and_capped_by_the_cgroup():
    assert meminfo_available(MEMINFO) == 20_000_000 * 1024
    assert meminfo_available("MemTotal: 1 kB\n") is None
    assert cgroup_room("4294967296\n", "1073741824\n") == 3 * GIB
    assert cgroup_room("max\n", "1073741824\n") is None and cgroup_room(None, None) is None
    free = free_memory()
    assert free is not None and free > 0  # this machine reports its memory


def test_a_table_that_fits_passes_and_one_that_does_not_says_how_many_rows_fit():
    check_rows(1000, "small", free=FIXED_BYTES + 1000 * BYTES_PER_ROW)
    with pytest.raises(UserError) as error:
        check_rows(3_000_000, "stores=3000 x rows=1000", free=2 * GIB)
    message = str(error.value)
    assert "\n" not in message and "stores=3000 x rows=1000 is 3,000,000 rows" in message
    # What fits: the memory left after the step's fixed part, a row's worth at a time.
    assert f"it can take about {(2 * GIB - FIXED_BYTES) // BYTES_PER_ROW:,} rows" in message
    with pytest.raises(UserError, match="with 2 products at once"):
        check_rows(600_000, "x", at_once=2, free=2 * GIB)
    check_rows(600_000, "x", at_once=1, free=2 * GIB)


def test_main_refuses_a_chain_no_machine_holds_before_any_run():
    args = Namespace(data="", rows="1000000", stores="1000000")
    with pytest.raises(UserError, match="stores=1000000 x rows=1000000 is 1,000,000,000,000 rows"):
        check_capacity(args, 1)
    check_capacity(Namespace(data="", rows="1000", stores="1"), 2)  # the default fits
    check_capacity(Namespace(data="huge.csv", rows="1000000", stores="1000000"), 1)  # read later
