"""Sticky assignment: the FNV-1a hash, buckets, the share threshold, overrides, kill switch, forcing."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import pytest

from gateway.flags.model import AgentFlags
from gateway.routing.assign import BUCKETS, REMEMBERED_UNITS, Splitter, bucket, fnv1a32, share_to_threshold
from gateway.settings import AgentConfig, Route

# FNV-1a 32-bit reference values (Landon Curt Noll's test suite).
FNV_VECTORS = {"": 0x811C9DC5, "a": 0xE40C292C, "ab": 0x4D2505CA, "foobar": 0xBF9CF968}

# GrowthBook's hash test cases (sdk-js test/cases.json, "hash"): version 1 is fnv1a32(value + seed) % 1000 / 1000.
GROWTHBOOK_V1 = [
    ("a", 0.22),
    ("b", 0.077),
    ("ab", 0.946),
    ("def", 0.652),
    ("8952klfjas09ujkasdf", 0.549),
    ("123", 0.011),
    ('___)((*":&', 0.563),
]
# Version 2 is what the gateway uses: fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000.
GROWTHBOOK_V2 = [
    ("seed", "a", 0.0505),
    ("seed", "b", 0.2696),
    ("foo", "ab", 0.2575),
    ("foo", "def", 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 0.124),
    ("90850943850283058242805", "123", 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 0.0128),
]


def splitter(share: float, *, enabled: bool = True, overrides: dict[str, str] | None = None) -> Splitter:
    return Splitter(
        salt="support_agent",
        threshold=share_to_threshold(share),
        enabled=enabled,
        overrides=overrides or {},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("data", "expected"), FNV_VECTORS.items())
def test_fnv1a32_matches_reference_vectors(data: str, expected: int) -> None:
    """fnv1a32 returns the published FNV-1a 32-bit values."""
    assert fnv1a32(data) == expected


@pytest.mark.parametrize(("value", "expected"), GROWTHBOOK_V1)
def test_fnv1a32_matches_growthbook_v1_hash(value: str, expected: float) -> None:
    """fnv1a32 agrees with GrowthBook's version-1 hash vectors."""
    assert fnv1a32(value) % 1000 / 1000 == expected


@pytest.mark.parametrize(("seed", "value", "expected"), GROWTHBOOK_V2)
def test_bucket_matches_growthbook_v2_hash(seed: str, value: str, expected: float) -> None:
    """bucket(salt, unit) is GrowthBook's version-2 hash scaled to 10,000 buckets."""
    assert bucket(seed, value) / BUCKETS == expected


@pytest.mark.parametrize(("seed", "value", "expected"), GROWTHBOOK_V2)
def test_a_splitter_buckets_like_growthbook_v2(seed: str, value: str, expected: float) -> None:
    """The splitter, which hashes its salt once at build time, puts a unit in GrowthBook's v2 bucket."""
    split = Splitter(salt=seed, threshold=share_to_threshold(50), enabled=True, overrides={})
    assert split.assign(value).bucket == round(expected * BUCKETS)


def test_fnv1a32_hashes_utf8_bytes() -> None:
    """Non-ASCII units hash their UTF-8 bytes, so every SDK in any language agrees."""
    assert fnv1a32("é") == fnv1a32("\u00e9")
    h = 0x811C9DC5
    for byte in "é".encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    assert fnv1a32("é") == h


def test_bucket_is_deterministic_and_in_range() -> None:
    """The same salt and unit always give the same bucket, inside [0, 10000)."""
    for i in range(500):
        b = bucket("salt", f"user-{i}")
        assert 0 <= b < BUCKETS
        assert b == bucket("salt", f"user-{i}")


def test_salt_rerandomises_units() -> None:
    """Another salt puts most units in other buckets (experiments are independent)."""
    same = sum(bucket("a", f"u{i}") == bucket("b", f"u{i}") for i in range(1000))
    assert same < 10


@pytest.mark.parametrize(("share", "threshold"), [(0, 0), (0.01, 1), (12.5, 1250), (30, 3000), (100, 10_000)])
def test_share_to_threshold(share: float, threshold: int) -> None:
    """A share in percent becomes a bucket threshold in steps of 0.01 %."""
    assert share_to_threshold(share) == threshold


def test_split_of_10000_units_at_30_percent_is_within_4_5_sigma() -> None:
    """10,000 units at a 30 % share: the candidate count lies within 4.5 binomial standard deviations of 3,000.

    For a uniform hash the count is Binomial(n=10,000, p=0.3): sd = sqrt(n p (1-p)) = sqrt(2,100) = 45.8,
    so 4.5 sd = 206 units, i.e. the count must be in [2,794, 3,206] (share 30 % ± 2.06 points). A fair
    hash falls outside with probability ~7e-6.
    """
    n, p = 10_000, 0.3
    tolerance = 4.5 * math.sqrt(n * p * (1 - p))
    split = splitter(30)
    candidates = sum(split.assign(f"user-{i}").variant == "candidate" for i in range(n))
    assert abs(candidates - n * p) <= tolerance, (candidates, tolerance)


def test_buckets_of_10000_units_are_uniform_over_deciles() -> None:
    """The buckets of 10,000 units spread evenly over ten deciles (chi-square, 9 df, below 33.7: p > 1e-4)."""
    counts = [0] * 10
    for i in range(10_000):
        counts[bucket("support_agent", f"user-{i}") * 10 // BUCKETS] += 1
    chi2 = sum((c - 1000) ** 2 / 1000 for c in counts)
    assert chi2 < 33.7, counts


def test_same_unit_keeps_its_variant_while_share_is_unchanged() -> None:
    """Assigning a unit again gives the same variant and bucket, with reason 'hash'."""
    split = splitter(30)
    for i in range(200):
        first, again = split.assign(f"u{i}"), split.assign(f"u{i}")
        assert first == again
        assert first.reason == "hash"


def test_a_splitter_remembers_buckets_exactly_as_hashed_also_once_it_forgets() -> None:
    """Units assigned again, from memory or after the splitter forgot them (past REMEMBERED_UNITS), keep
    the bucket the hash gives."""
    split = splitter(50)
    units = [f"session-{i:08x}" for i in range(REMEMBERED_UNITS * 2 + 7)]
    for _ in range(2):
        for unit in units:
            assert split.assign(unit).bucket == bucket("support_agent", unit)


def test_a_splitter_keeps_a_bounded_number_of_units() -> None:
    """12,000 distinct 64-character ids leave at most what REMEMBERED_UNITS of them take (~0.4 MB), not 2.5 MB."""
    split = splitter(50)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(12_000):
            split.assign(f"{i:064d}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < REMEMBERED_UNITS * 400, grown


def test_raising_the_share_never_moves_a_unit_off_the_candidate() -> None:
    """For every pair of shares s1 < s2, a unit on the candidate at s1 is on the candidate at s2."""
    shares = [0, 0.01, 1, 5, 10, 30, 50, 75, 99.99, 100]
    units = [f"user-{i}" for i in range(3000)]
    on_candidate = [{u for u in units if splitter(s).assign(u).variant == "candidate"} for s in shares]
    for lower, higher in itertools.pairwise(on_candidate):
        assert lower <= higher
    assert on_candidate[0] == set()
    assert on_candidate[-1] == set(units)


def test_override_pins_a_unit_whatever_the_share() -> None:
    """A unit listed in overrides gets its pinned variant, with reason 'override'."""
    assert splitter(0, overrides={"vip": "candidate"}).assign("vip").variant == "candidate"
    assigned = splitter(100, overrides={"vip": "baseline"}).assign("vip")
    assert (assigned.variant, assigned.reason) == ("baseline", "override")


def test_kill_switch_sends_everyone_to_the_baseline() -> None:
    """A disabled experiment assigns the baseline even to forced, pinned or candidate-bucket units."""
    split = splitter(100, enabled=False, overrides={"vip": "candidate"})
    assert split.assign("anyone").variant == "baseline"
    assert split.assign("vip").variant == "baseline"
    assert split.assign("anyone", forced="candidate").variant == "baseline"
    assert split.assign(None).reason == "disabled"


def test_forced_variant_wins_over_share_and_override() -> None:
    """An (authorised) forced variant is used as is, with reason 'forced'."""
    split = splitter(0, overrides={"vip": "baseline"})
    assigned = split.assign("vip", forced="candidate")
    assert (assigned.variant, assigned.reason) == ("candidate", "forced")
    assert splitter(100).assign(None, forced="baseline").variant == "baseline"


def test_without_a_unit_each_request_is_assigned_on_its_own() -> None:
    """No unit id: reason 'random', and at 50 % both variants appear over 200 requests."""
    split = splitter(50)
    assigned = [split.assign(None) for _ in range(200)]
    assert {a.reason for a in assigned} == {"random"}
    assert {a.variant for a in assigned} == {"candidate", "baseline"}


def test_flags_from_config_use_the_agent_name_as_default_salt() -> None:
    """An agent without a salt hashes with its name; a configured salt replaces it."""
    cfg = AgentConfig(
        candidate=Route(model="ft:x", upstream="u"), baseline=Route(model="b", upstream="u"), candidate_share=30
    )
    flags = AgentFlags.from_config("support_agent", cfg)
    assert flags.splitter.salt == "support_agent"
    assert flags.splitter.threshold == 3000
    salted = AgentFlags.from_config("support_agent", cfg.model_copy(update={"salt": "v2"}))
    assert salted.splitter.salt == "v2"
