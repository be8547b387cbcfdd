"""The double-random draw (双随机一公开) as a pure, published function: ``hmac-sha256-rank``, v1.

Anyone holding a draw's published inputs (the seed, the two pools and the sample size or rate:
``GET /api/v1/draws/{draw_id}``) can recompute its picks with this text and any HMAC-SHA256
implementation; nothing here depends on the machine, the Python version, ``PYTHONHASHSEED``, the
database's row order or ``random``. The same text is in the README (双随机抽取算法).

1. **Canonical pools.** Each pool is the set of its ids sorted ascending by code point (the
   ids are ASCII, so this is byte order; duplicates removed).
2. **Score.** ``score(msg) = int.from_bytes(HMAC-SHA256(key=UTF-8(seed), msg=UTF-8(msg)),
   "big")``: the 32-byte digest read as an unsigned big-endian integer. The seed is used
   exactly as given (no trimming, no Unicode normalisation).
3. **Sample size.** ``n = min(sample_size, N)`` for a size, or for a rate ``0 < r ≤ 1``
   ``n = floor(N·r + 1/2)`` computed exactly (the rate's decimal text as a fraction: half rounds
   up), and at least 1 when ``N > 0``; ``N`` is the enterprise pool's size.
4. **Enterprises.** Every enterprise ``e`` of the pool is ranked by ``score("enterprise:" + e)``
   ascending (ties, which do not happen in practice, by id); the first ``n`` are picked, in that
   rank order.
5. **Inspectors.** The picked enterprises are taken in rank order. For each ``e``, the eligible
   inspectors are those of the pool who hold an enforcement certificate (执法证) and are not of
   the enterprise's own town (回避: an inspector whose unit is a town whose region code is a
   prefix of ``e``'s region code). They are ordered by ``(load, score("inspector:" + e + ":" +
   u), u)`` ascending, where ``load`` is how many earlier picks of this draw ``u`` was already
   given; the first two are the pair, and each one's load grows by one. Balancing by load first
   spreads the work: without 回避 the loads never differ by more than one. An enterprise with
   fewer than two eligible inspectors is *unpaired*: it is reported (and the draw refused), and
   the loads are unchanged by it.

Any change to these steps is a new ``VERSION`` (and a new pinned vector in
tests/test_draw_algorithm.py); a stored draw names the version that made it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ALGORITHM = "hmac-sha256-rank"
VERSION = 1


@dataclass(frozen=True)
class PoolEnterprise:
    """An enterprise of the pool: its id and its region code (for 回避)."""

    id: str
    region_code: str


@dataclass(frozen=True)
class PoolInspector:
    """An inspector of the pool: its id, the region code of its unit when that unit is a town
    (None for a county office or a bureau: no town to avoid), and whether it holds an
    enforcement certificate (执法证号)."""

    id: str
    town_region_code: str | None
    certified: bool


@dataclass(frozen=True)
class Pick:
    enterprise_id: str
    inspector_ids: tuple[str, str]


@dataclass(frozen=True)
class DrawResult:
    """What a draw gives: both pools in canonical order, the number to pick, the picks in rank
    order, and the picked enterprises no pair could be formed for (in rank order)."""

    algorithm: str
    version: int
    enterprise_pool: tuple[str, ...]
    inspector_pool: tuple[str, ...]
    sample: int
    picks: tuple[Pick, ...]
    unpaired: tuple[str, ...]


def score(seed: str, message: str) -> int:
    """HMAC-SHA256 of ``message`` keyed by ``seed`` (both UTF-8), as a big-endian integer."""
    digest = hmac.new(seed.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest, "big")


def _fraction(rate: Decimal | Fraction | str | int) -> Fraction:
    # A float is refused: its binary value is not the decimal the caller wrote (0.1 ≠ 1/10).
    if isinstance(rate, float):
        raise TypeError("give the rate as a Decimal, a Fraction or its decimal text, not a float")
    return Fraction(rate)


def sample_count(
    pool_size: int,
    *,
    sample_size: int | None = None,
    sample_rate: Decimal | Fraction | str | None = None,
) -> int:
    """Step 3: how many enterprises a draw picks from a pool of ``pool_size``."""
    if (sample_size is None) == (sample_rate is None):
        raise ValueError("exactly one of sample_size and sample_rate")
    if pool_size <= 0:
        return 0
    if sample_size is not None:
        if sample_size < 1:
            raise ValueError("sample_size must be at least 1")
        return min(sample_size, pool_size)
    rate = _fraction(sample_rate)  # type: ignore[arg-type]
    if not 0 < rate <= 1:
        raise ValueError("sample_rate must be in (0, 1]")
    # floor(N·r + 1/2): round half up, exactly.
    n = (pool_size * rate + Fraction(1, 2)).__floor__()
    return max(1, min(n, pool_size))


def town_conflict(inspector: PoolInspector, enterprise: PoolEnterprise) -> bool:
    """回避: the inspector belongs to the town the enterprise lies in."""
    town = inspector.town_region_code
    return bool(town) and enterprise.region_code.startswith(town)  # type: ignore[arg-type]


def draw(
    seed: str,
    enterprises: Iterable[PoolEnterprise],
    inspectors: Iterable[PoolInspector],
    *,
    sample_size: int | None = None,
    sample_rate: Decimal | Fraction | str | None = None,
) -> DrawResult:
    """Run ``hmac-sha256-rank`` v1 (the module's text) over the two pools."""
    if not seed:
        raise ValueError("the seed must not be empty")
    by_id_e = {e.id: e for e in enterprises}
    by_id_i = {i.id: i for i in inspectors}
    enterprise_pool = tuple(sorted(by_id_e))
    inspector_pool = tuple(sorted(by_id_i))
    n = sample_count(len(enterprise_pool), sample_size=sample_size, sample_rate=sample_rate)

    ranked = sorted(enterprise_pool, key=lambda e: (score(seed, "enterprise:" + e), e))
    load = dict.fromkeys(inspector_pool, 0)
    picks: list[Pick] = []
    unpaired: list[str] = []
    for enterprise_id in ranked[:n]:
        enterprise = by_id_e[enterprise_id]
        eligible = [
            u
            for u in inspector_pool
            if by_id_i[u].certified and not town_conflict(by_id_i[u], enterprise)
        ]
        if len(eligible) < 2:
            unpaired.append(enterprise_id)
            continue
        eligible.sort(
            key=lambda u: (load[u], score(seed, "inspector:" + enterprise_id + ":" + u), u)
        )
        first, second = eligible[0], eligible[1]
        load[first] += 1
        load[second] += 1
        picks.append(Pick(enterprise_id, (first, second)))
    return DrawResult(
        algorithm=ALGORITHM,
        version=VERSION,
        enterprise_pool=enterprise_pool,
        inspector_pool=inspector_pool,
        sample=n,
        picks=tuple(picks),
        unpaired=tuple(unpaired),
    )
