"""grocery.cpus: the CPUs a process may use, from sample cgroup files as a container shows them."""

from __future__ import annotations

import os

import pytest

from grocery.cpus import available_cpus, cgroup_paths, quota_cpus, usable_cpus


@pytest.mark.parametrize(("quota", "period", "cpus"), [
    ("200000", "100000", 2.0), ("150000\n", "100000\n", 1.5), ("50000", "100000", 0.5),
    ("-1", "100000", None), ("max", "100000", None), (None, None, None), ("", "100000", None),
    ("100000", "0", None),
])
def test_a_quota_over_its_period(quota, period, cpus):
    assert quota_cpus(quota, period) == cpus


@pytest.mark.parametrize(("affinity", "files", "cpus"), [
    (16, {}, 16),                                            # no limit anywhere
    (16, {"cpu_max": "max 100000\n"}, 16),                   # cgroup v2, unlimited
    (16, {"cpu_max": "200000 100000\n"}, 2),                 # a pod's limits.cpu: 2
    (16, {"cpu_max": "150000 100000\n"}, 2),                 # 1.5 CPUs: two workers share them
    (16, {"cpu_max": "50000 100000\n"}, 1),                  # half a CPU: still one worker
    (16, {"cpu_max": "300000"}, 3),                          # the period left to its default
    (16, {"cfs_quota": "400000\n", "cfs_period": "100000\n"}, 4),   # cgroup v1
    (16, {"cfs_quota": "-1\n", "cfs_period": "100000\n"}, 16),      # cgroup v1, unlimited
    (2, {"cpu_max": "800000 100000\n"}, 2),                  # pinned to 2 CPUs: affinity wins
    (16, {"cpu_max": "300000 100000", "cfs_quota": "200000", "cfs_period": "100000"}, 2),
    (0, {}, 1),
])
def test_the_smallest_limit_counts(affinity, files, cpus):
    assert usable_cpus(affinity, **files) == cpus


def test_the_process_cgroup_paths():
    v2 = "0::/kubepods.slice/pod1/cri-abc\n"
    v1 = "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n"
    assert cgroup_paths(v2) == {"": "/kubepods.slice/pod1/cri-abc"}
    assert cgroup_paths(v1) == {"cpu": "/docker/abc", "cpuacct": "/docker/abc",
                                "memory": "/docker/abc", "": "/"}
    assert cgroup_paths(None) == {} == cgroup_paths("")


def test_this_process_counts_at_least_one_and_at_most_its_affinity():
    assert 1 <= available_cpus() <= len(os.sched_getaffinity(0))
