"""The double-random algorithm (app/services/draws/algorithm.py, ``hmac-sha256-rank`` v1): the
same inputs give the same picks in any process, another seed others, every enterprise has the
same chance, 回避 and certificates hold, and a pinned vector catches any change of algorithm."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from app.services.draws.algorithm import (
    ALGORITHM,
    VERSION,
    DrawResult,
    PoolEnterprise,
    PoolInspector,
    draw,
    sample_count,
    score,
    town_conflict,
)

TOWN_A = "341302001"
TOWN_B = "341302100"

# The pinned vector: ten enterprises alternating between two towns, two inspectors of each
# town, one of a bureau, one without a certificate.
PINNED_SEED = "2026年第4季度双随机抽查 #42"
PINNED_ENTERPRISES = [
    PoolEnterprise(f"ent-{i:02d}", (TOWN_A if i % 2 else TOWN_B) + f"{i - 1:03d}")
    for i in range(1, 11)
]
PINNED_INSPECTORS = [
    PoolInspector("insp-a1", TOWN_A, True),
    PoolInspector("insp-a2", TOWN_A, True),
    PoolInspector("insp-b1", TOWN_B, True),
    PoolInspector("insp-b2", TOWN_B, True),
    PoolInspector("insp-c1", None, True),
    PoolInspector("insp-x", None, False),
]


def as_json(result: DrawResult) -> str:
    return json.dumps(
        {
            "enterprise_pool": result.enterprise_pool,
            "inspector_pool": result.inspector_pool,
            "sample": result.sample,
            "picks": [[p.enterprise_id, list(p.inspector_ids)] for p in result.picks],
            "unpaired": result.unpaired,
        },
        ensure_ascii=False,
    )


def pool(n: int) -> list[PoolEnterprise]:
    return [PoolEnterprise(f"e{i:03d}", (TOWN_A if i % 2 else TOWN_B) + "001") for i in range(n)]


def county_inspectors(n: int) -> list[PoolInspector]:
    return [PoolInspector(f"u{i:02d}", None, True) for i in range(n)]


def test_score_is_plain_hmac_sha256_read_big_endian() -> None:
    # RFC 4231, test case 2.
    assert score("Jefe", "what do ya want for nothing?") == int(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 16
    )
    # `printf 'enterprise:ent-01' | openssl dgst -sha256 -hmac '2026年第4季度双随机抽查 #42'`
    assert score(PINNED_SEED, "enterprise:ent-01") == int(
        "24af27e28d5f625fc2505a8df7a632852431535fe0af37a374f273c49b4bbf30", 16
    )


def test_pinned_vector_is_unchanged() -> None:
    """A change here is a change of algorithm: bump VERSION and write the new vector."""
    result = draw(PINNED_SEED, PINNED_ENTERPRISES, PINNED_INSPECTORS, sample_size=4)
    assert (result.algorithm, result.version) == (ALGORITHM, VERSION) == ("hmac-sha256-rank", 1)
    assert result.enterprise_pool == tuple(f"ent-{i:02d}" for i in range(1, 11))
    assert result.inspector_pool == (
        "insp-a1",
        "insp-a2",
        "insp-b1",
        "insp-b2",
        "insp-c1",
        "insp-x",
    )
    assert result.sample == 4
    assert [(p.enterprise_id, p.inspector_ids) for p in result.picks] == [
        ("ent-05", ("insp-c1", "insp-b2")),
        ("ent-01", ("insp-b1", "insp-b2")),
        ("ent-10", ("insp-a1", "insp-a2")),
        ("ent-02", ("insp-c1", "insp-a2")),
    ]
    assert result.unpaired == ()


def test_same_inputs_same_picks_whatever_the_input_order() -> None:
    first = draw(PINNED_SEED, PINNED_ENTERPRISES, PINNED_INSPECTORS, sample_size=4)
    again = draw(
        PINNED_SEED,
        list(reversed(PINNED_ENTERPRISES)) + PINNED_ENTERPRISES[:3],  # duplicates count once
        list(reversed(PINNED_INSPECTORS)),
        sample_size=4,
    )
    assert as_json(again) == as_json(first)


def test_same_picks_in_another_process_with_another_hash_seed() -> None:
    here = as_json(draw(PINNED_SEED, PINNED_ENTERPRISES, PINNED_INSPECTORS, sample_rate="0.35"))
    script = (
        "import sys; sys.path.insert(0, 'tests'); "
        "from test_draw_algorithm import *; "
        "print(as_json(draw(PINNED_SEED, PINNED_ENTERPRISES, PINNED_INSPECTORS, "
        "sample_rate='0.35')))"
    )
    root = Path(__file__).resolve().parent.parent
    for hash_seed in ("0", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONIOENCODING": "utf-8"}
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        ).stdout.strip()
        assert out == here


def test_another_seed_gives_other_picks() -> None:
    enterprises, inspectors = pool(20), county_inspectors(6)
    base = draw("seed-A", enterprises, inspectors, sample_size=5)
    other = draw("seed-B", enterprises, inspectors, sample_size=5)
    assert base.picks != other.picks
    # And not by luck of two seeds: over 50 seeds, the picked sets are nearly all different
    # (two random 5-sets of 20 coincide with probability 1/C(20,5) = 1/15504).
    sets = {
        frozenset(
            p.enterprise_id for p in draw(f"s{i}", enterprises, inspectors, sample_size=5).picks
        )
        for i in range(50)
    }
    assert len(sets) >= 49


def test_every_enterprise_has_the_same_chance_over_many_seeds() -> None:
    """20 enterprises, 5 picked per draw, S = 2000 seeds: each is picked with probability
    p = 5/20 = 1/4 per draw, so its frequency X/S has mean 1/4. The seeds' draws are
    independent if HMAC-SHA256 behaves as a random function, and Hoeffding's inequality bounds,
    without any normal approximation, P(|X/S − p| ≥ t) ≤ 2·exp(−2·S·t²). Asking that all 20
    enterprises stay within t together fail with probability at most α = 10⁻⁶ (union bound)
    gives t = sqrt(ln(2·20/α) / (2·S)) ≈ 0.066, i.e. a frequency of 0.25 ± 0.066 (a count of
    500 ± 132). The seeds are fixed, so the test is deterministic; the bound says a fair
    algorithm passes it with certainty for practical purposes, while a biased one (say the
    first five ids, or any rule favouring an id) lands far outside (frequency 0 or 1)."""
    size, k, seeds, alpha = 20, 5, 2000, 1e-6
    p = k / size
    tolerance = math.sqrt(math.log(2 * size / alpha) / (2 * seeds))
    assert 0.06 < tolerance < 0.07  # the derivation above, and tight enough to mean something
    enterprises, inspectors = pool(size), county_inspectors(4)
    counts: Counter[str] = Counter()
    for i in range(seeds):
        result = draw(f"2026-Q4-{i}", enterprises, inspectors, sample_size=k)
        assert len(result.picks) == k
        counts.update(pick.enterprise_id for pick in result.picks)
    assert set(counts) == {e.id for e in enterprises}
    for enterprise_id, count in counts.items():
        assert abs(count / seeds - p) < tolerance, (enterprise_id, count)


def test_town_conflict_avoided_and_certificates_required() -> None:
    enterprises = [
        PoolEnterprise(
            f"e{i:02d}", (TOWN_A if i % 3 == 0 else TOWN_B if i % 3 == 1 else "341302200") + "001"
        )
        for i in range(12)
    ]
    inspectors = [
        PoolInspector("a1", TOWN_A, True),
        PoolInspector("a2", TOWN_A, True),
        PoolInspector("b1", TOWN_B, True),
        PoolInspector("b2", TOWN_B, True),
        PoolInspector("bureau1", None, True),
        PoolInspector("nocert-b", TOWN_B, False),
        PoolInspector("nocert-x", None, False),
    ]
    by_id_e = {e.id: e for e in enterprises}
    by_id_i = {i.id: i for i in inspectors}
    for i in range(200):
        result = draw(f"avoid-{i}", enterprises, inspectors, sample_rate=Decimal("0.5"))
        assert result.unpaired == ()
        assert len(result.picks) == 6
        for pick in result.picks:
            first, second = pick.inspector_ids
            assert first != second
            for u in pick.inspector_ids:
                assert by_id_i[u].certified
                assert not town_conflict(by_id_i[u], by_id_e[pick.enterprise_id])


def test_town_conflict_is_a_region_prefix_of_a_town_only() -> None:
    enterprise = PoolEnterprise("e", "341302001007")
    assert town_conflict(PoolInspector("u", "341302001", True), enterprise)
    assert not town_conflict(PoolInspector("u", "341302100", True), enterprise)
    assert not town_conflict(PoolInspector("u", None, True), enterprise)  # county or bureau


def test_enterprise_without_two_eligible_inspectors_is_unpaired() -> None:
    enterprises = [PoolEnterprise("in-a", TOWN_A + "001"), PoolEnterprise("in-b", TOWN_B + "001")]
    inspectors = [
        PoolInspector("a1", TOWN_A, True),
        PoolInspector("a2", TOWN_A, True),
        PoolInspector("b1", TOWN_B, True),
        PoolInspector("c-nocert", None, False),
    ]
    result = draw("any", enterprises, inspectors, sample_size=2)
    # Town B's enterprise can have a1 and a2; town A's only b1 (the bureau one has no 执法证).
    assert result.unpaired == ("in-a",)
    assert [(p.enterprise_id, p.inspector_ids) for p in result.picks] == [("in-b", ("a1", "a2"))]


def test_load_is_balanced_without_town_conflicts() -> None:
    enterprises, inspectors = pool(40), county_inspectors(7)
    for i in range(20):
        result = draw(f"load-{i}", enterprises, inspectors, sample_size=23)
        load = Counter(u for pick in result.picks for u in pick.inspector_ids)
        assert sum(load.values()) == 46
        assert max(load.values()) - min(load[u.id] for u in inspectors) <= 1


@pytest.mark.parametrize(
    ("size", "kwargs", "expected"),
    [
        (10, {"sample_size": 3}, 3),
        (10, {"sample_size": 30}, 10),  # never more than the pool
        (0, {"sample_size": 3}, 0),
        (10, {"sample_rate": "0.25"}, 3),  # 2.5 rounds half up
        (10, {"sample_rate": Decimal("0.24")}, 2),  # 2.4
        (10, {"sample_rate": "0.05"}, 1),  # 0.5 rounds up
        (10, {"sample_rate": "0.01"}, 1),  # 0.1: at least one
        (10, {"sample_rate": Fraction(1, 3)}, 3),
        (7, {"sample_rate": "1"}, 7),
        (0, {"sample_rate": "0.5"}, 0),
        (3, {"sample_rate": "0.5"}, 2),  # 1.5 → 2 (half up, not to even)
        (5, {"sample_rate": "0.5"}, 3),  # 2.5 → 3
    ],
)
def test_sample_count(size: int, kwargs: dict[str, object], expected: int) -> None:
    assert sample_count(size, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"sample_size": 2, "sample_rate": "0.5"},
        {"sample_size": 0},
        {"sample_rate": "0"},
        {"sample_rate": "1.01"},
    ],
)
def test_sample_count_refuses_bad_sizes(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sample_count(10, **kwargs)  # type: ignore[arg-type]


def test_float_rate_refused_as_inexact() -> None:
    with pytest.raises(TypeError):
        sample_count(10, sample_rate=0.1)  # type: ignore[arg-type]


def test_empty_seed_refused() -> None:
    with pytest.raises(ValueError):
        draw("", pool(3), county_inspectors(2), sample_size=1)
