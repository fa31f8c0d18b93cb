"""The benchmark's arithmetic: what two workers can show on two cores shared with the load generator."""

from __future__ import annotations

import pytest

from benchmarks.run import _two_core_bound


def test_two_workers_can_double_one_only_when_the_load_costs_nothing() -> None:
    assert _two_core_bound({"rps_per_core": 10_000}, {"load_us_per_req": 0.0}) == pytest.approx(2.0)


def test_the_load_generators_cpu_per_request_comes_off_the_second_worker() -> None:
    # 100 µs a request in the server, 50 µs in wrk and nginx: two cores serve 2 / 150 µs, one worker 1 / 100 µs.
    assert _two_core_bound({"rps_per_core": 10_000}, {"load_us_per_req": 50.0}) == pytest.approx(4 / 3)


def test_a_cheaper_server_has_a_lower_bound_under_the_same_load() -> None:
    cheap = _two_core_bound({"rps_per_core": 20_000}, {"load_us_per_req": 40.0})
    costly = _two_core_bound({"rps_per_core": 5_000}, {"load_us_per_req": 40.0})
    assert cheap is not None and costly is not None and cheap < costly


def test_no_bound_without_both_measurements() -> None:
    assert _two_core_bound({"rps_per_core": None}, {"load_us_per_req": 40.0}) is None
    assert _two_core_bound({"rps_per_core": 10_000}, {"load_us_per_req": None}) is None
