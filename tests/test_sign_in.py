"""Sign-in under attack: floods, concurrency and lock-out abuse (issue 8, items 1-4).

Each sign-in counts against three keys: the username from this address, the username anywhere
and the address; see app/services/auth.py. Requests here come from chosen client addresses
(``request.client.host``), as uvicorn reports them behind a trusted proxy.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.auth import passwords
from tests.conftest import PASSWORD, World

TOKEN = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def early_in_a_throttle_window(monkeypatch: pytest.MonkeyPatch, settings) -> None:  # type: ignore[no-untyped-def]
    """Throttle windows are aligned to multiples of their length. These tests count failures
    over several requests and read Retry-After, so their clock starts a minute into a window
    (and runs at real speed) instead of possibly a second before one ends."""
    seconds = settings.login_window_seconds
    offset = timedelta(seconds=datetime.now(UTC).timestamp() % seconds - 60)
    monkeypatch.setattr("app.services.auth.utcnow", lambda: datetime.now(UTC) - offset)


@asynccontextmanager
async def from_address(app, host: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        yield c


async def sign_in(c: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await c.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )


# ---- item 1: a flood of failures does not take the connection pool ---------------------------


async def test_200_concurrent_failed_sign_ins_leave_the_pool_to_other_requests(app, world) -> None:  # type: ignore[no-untyped-def]
    """Unknown usernames, 150 sprayed from one address (throttled: 429 after 20), 50 from an
    address each (every one verified: 401). Meanwhile and afterwards an authenticated list
    answers within a second: no sign-in holds a second connection, nor any connection while
    it waits for its hash."""

    async def failed_sign_in(i: int) -> int:
        host = f"198.51.100.{i // 4}" if i % 4 == 0 else "203.0.113.7"
        async with from_address(app, host) as c:
            return (await sign_in(c, f"ghost-{i}", "wrong-password")).status_code

    async def timed_list(c: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        r = await c.get("/api/v1/enterprises", headers=world.h("admin"))
        assert r.status_code == 200
        return time.perf_counter() - started

    async with from_address(app, "192.0.2.10") as c:
        started = time.perf_counter()
        flood = asyncio.gather(*(failed_sign_in(i) for i in range(200)))
        await asyncio.sleep(0.3)  # the flood is under way: reservations, hashes, settlements
        during = [await timed_list(c) for _ in range(3)]
        statuses = Counter(await flood)
        flood_seconds = time.perf_counter() - started
        after = await timed_list(c)

    print(
        f"\nflood of 200 failed sign-ins: {dict(statuses)} in {flood_seconds:.2f} s; "
        f"list during: {', '.join(f'{t * 1000:.0f} ms' for t in during)}; "
        f"after: {after * 1000:.0f} ms"
    )
    assert set(statuses) <= {401, 429}, statuses
    limit = world.settings.login_max_failures_per_address
    assert statuses[401] == 50 + limit  # every address of its own was heard, the sprayer 20 times
    assert statuses[429] == 150 - limit
    assert after < 1.0
    assert max(during) < 1.0


# ---- item 2: Argon2 off the event loop ----------------------------------------------------------


async def _probe_healthz(c: httpx.AsyncClient, until: Callable[[], bool]) -> list[float]:
    """A /healthz request "arrives" every 10 ms on a fixed schedule, and its latency counts from
    that moment: one arriving while the loop is blocked waits for it, as on a server (through
    ASGITransport a request may otherwise run without ever yielding to the loop)."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    arrival = loop.time()
    while not until():
        arrival += 0.010
        await asyncio.sleep(max(0.0, arrival - loop.time()))
        assert (await c.get("/healthz")).status_code == 200
        latencies.append(loop.time() - arrival)
    return latencies


def _summary(latencies: list[float]) -> tuple[float, float]:
    fast = sum(t < 0.050 for t in latencies) / len(latencies)
    return fast, statistics.quantiles(latencies, n=10)[-1]


async def test_the_event_loop_stays_responsive_while_20_sign_ins_run(app, world) -> None:  # type: ignore[no-untyped-def]
    """While 20 correct sign-ins hash their passwords, 90 % of /healthz answers take < 50 ms.
    (Before: Argon2 on the loop, median 1.2-5 s.) On a host so loaded that the probe alone
    misses that mark (before or after), the sign-ins may add at most 50 ms to the p90 the probe
    has without them."""
    names = [n for n in world.tokens if n != "machine"]
    loop = asyncio.get_running_loop()

    async def good_sign_in(i: int) -> int:
        async with from_address(app, f"198.51.100.{i}") as c:
            return (await sign_in(c, names[i % len(names)])).status_code

    async with from_address(app, "192.0.2.20") as c:
        await c.get("/healthz")
        quiet_until = loop.time() + 1.0
        baseline = await _probe_healthz(c, lambda: loop.time() >= quiet_until)
        sign_ins = asyncio.ensure_future(asyncio.gather(*(good_sign_in(i) for i in range(20))))
        latencies = await _probe_healthz(c, sign_ins.done)
        statuses = await sign_ins
        # Measured again after: other work on a shared host may have started meanwhile.
        again_until = loop.time() + 1.0
        after = await _probe_healthz(c, lambda: loop.time() >= again_until)

    assert statuses == [200] * 20
    fast, p90 = _summary(latencies)
    quiet_fast, quiet_p90 = min(_summary(baseline), _summary(after))
    print(
        f"\n/healthz during 20 sign-ins: {len(latencies)} answers, {fast:.0%} under 50 ms, "
        f"median {statistics.median(latencies) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms (without sign-ins: {quiet_fast:.0%} under 50 ms, "
        f"p90 {quiet_p90 * 1000:.1f} ms)"
    )
    assert len(latencies) >= 10  # the sign-ins took long enough to be measured against
    if quiet_fast >= 0.95:
        assert fast >= 0.9
    else:  # the host itself is too busy for the absolute mark
        assert p90 < quiet_p90 + 0.050


# ---- item 3: the throttle decides atomically -----------------------------------------------------


async def test_7_wrong_and_1_right_password_at_once_count_every_failure(app, world) -> None:  # type: ignore[no-untyped-def]
    """No more than 5 wrong guesses are ever verified, whatever arrives at once, and every
    failure stays counted: the concurrent right password does not reset the count."""
    async with from_address(app, "203.0.113.30") as c:
        attempts = [sign_in(c, "town_a_officer", f"wrong-{i}") for i in range(7)]
        attempts.insert(3, sign_in(c, "town_a_officer"))
        results = await asyncio.gather(*attempts)
        statuses = [r.status_code for r in results]
        wrong = statuses[:3] + statuses[4:]
        assert set(statuses) <= {200, 401, 429}, statuses
        assert wrong.count(401) <= 5, statuses
        # Further wrong guesses are allowed only up to the limit: no failure was forgotten.
        more = 0
        while (await sign_in(c, "town_a_officer", "wrong-again")).status_code == 401:
            more += 1
            assert more <= 5
        assert wrong.count(401) + more == 5, (statuses, more)
        assert (await sign_in(c, "town_a_officer")).status_code == 429


async def test_a_success_does_not_erase_failures_that_raced_with_it(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The right password is checked slowly; four wrong ones start and fail meanwhile. When the
    right one succeeds, those four stay counted: one more wrong guess locks the address."""
    real = passwords.verify_password

    def slow_for_the_right_password(password_hash: str | None, password: str) -> bool:
        if password == PASSWORD:
            time.sleep(2.0)
        return real(password_hash, password)

    monkeypatch.setattr("app.services.auth.verify_password", slow_for_the_right_password)
    async with from_address(app, "203.0.113.31") as c:
        right = asyncio.ensure_future(sign_in(c, "town_a_officer"))
        await asyncio.sleep(0.15)  # the right one has reserved its attempt and is verifying
        wrong = await asyncio.gather(
            *(sign_in(c, "town_a_officer", f"wrong-{i}") for i in range(4))
        )
        assert [r.status_code for r in wrong] == [401] * 4
        assert not right.done()
        assert (await right).status_code == 200
        assert (await sign_in(c, "town_a_officer", "wrong-5")).status_code == 401
        r = await sign_in(c, "town_a_officer")
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 60


async def test_a_success_forgets_the_typos_before_it(client, world: World) -> None:
    async with from_address(client._transport.app, "203.0.113.32") as c:  # type: ignore[attr-defined]
        for _ in range(4):
            assert (await sign_in(c, "town_a_officer", "typo-password")).status_code == 401
        assert (await sign_in(c, "town_a_officer")).status_code == 200
        for _ in range(5):
            assert (await sign_in(c, "town_a_officer", "typo-password")).status_code == 401
        assert (await sign_in(c, "town_a_officer")).status_code == 429


# ---- item 4: per address beside per username -------------------------------------------------


async def test_spraying_many_usernames_from_one_address_is_throttled(app, world) -> None:  # type: ignore[no-untyped-def]
    limit = world.settings.login_max_failures_per_address
    async with from_address(app, "203.0.113.40") as sprayer:
        for i in range(limit):
            assert (await sign_in(sprayer, f"user-{i}", "Summer2026!")).status_code == 401
        r = await sign_in(sprayer, "user-next", "Summer2026!")
        assert r.status_code == 429
        assert r.json()["code"] == "login_throttled"
        assert int(r.headers["Retry-After"]) > 60
        # Even the right password of a real account: the address is out of guesses.
        assert (await sign_in(sprayer, "town_a_officer")).status_code == 429
    async with from_address(app, "198.51.100.40") as elsewhere:
        assert (await sign_in(elsewhere, "town_a_officer")).status_code == 200


async def test_failures_for_admin_from_one_address_do_not_lock_admin_out_elsewhere(
    app, world
) -> None:  # type: ignore[no-untyped-def]
    async with from_address(app, "203.0.113.50") as attacker:
        for _ in range(5):
            assert (await sign_in(attacker, "admin", "guess-password")).status_code == 401
        throttled = await sign_in(attacker, "admin")  # even the right password, from here
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) > 60
    async with from_address(app, "198.51.100.50") as office:
        r = await sign_in(office, "admin")
        assert r.status_code == 200
        me = await office.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.json()["username"] == "admin"


async def test_an_account_under_attack_gives_each_other_address_no_second_guess(app, world) -> None:  # type: ignore[no-untyped-def]
    """Once a username has 5 failures in the window, an address that has failed for it is
    refused: a botnet gets one guess per address, while a clean address still signs in."""
    async with from_address(app, "203.0.113.60") as first:
        for _ in range(5):
            assert (await sign_in(first, "admin", "guess-password")).status_code == 401
    async with from_address(app, "203.0.113.61") as bot:
        assert (await sign_in(bot, "admin", "guess-password")).status_code == 401
        assert (await sign_in(bot, "admin", "guess-password-2")).status_code == 429
    async with from_address(app, "198.51.100.61") as office:
        assert (await sign_in(office, "admin")).status_code == 200


async def test_unknown_usernames_are_throttled_like_real_ones(app, world) -> None:  # type: ignore[no-untyped-def]
    async with from_address(app, "203.0.113.70") as c:
        for name in ("town_a_officer", "ghost-user"):
            for _ in range(5):
                assert (await sign_in(c, name, "bad-password")).status_code == 401
            r = await sign_in(c, name)
            assert r.status_code == 429
            assert r.json()["code"] == "login_throttled"
    async with from_address(app, "198.51.100.70") as c:
        assert (await sign_in(c, "town_a_officer")).status_code == 200


async def test_client_credentials_are_throttled_per_address_too(app, world) -> None:  # type: ignore[no-untyped-def]
    def creds(secret: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": "cli_town_a_reader",
            "client_secret": secret,
        }

    async with from_address(app, "203.0.113.80") as attacker:
        for _ in range(5):
            assert (await attacker.post(TOKEN, data=creds("wrong-secret"))).status_code == 401
        assert (await attacker.post(TOKEN, data=creds(PASSWORD))).status_code == 429
    async with from_address(app, "198.51.100.80") as integration:
        assert (await integration.post(TOKEN, data=creds(PASSWORD))).status_code == 200


async def test_an_interrupted_check_gives_its_reserved_attempt_back(
    app, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A check that never finishes (the worker fails, the client goes away) frees its slot:
    nothing stays counted "in flight" for the rest of the window."""
    from sqlalchemy import func, select

    from app.models import LoginThrottle
    from app.services import auth as auth_service

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker died")

    original = auth_service.in_hashing_thread
    monkeypatch.setattr(auth_service, "in_hashing_thread", broken)
    transport = httpx.ASGITransport(
        app=app, client=("203.0.113.99", 40000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        for _ in range(8):
            assert (await sign_in(c, "town_a_officer")).status_code == 500
    async with app.state.sessionmaker() as s:
        pending = (await s.execute(select(func.sum(LoginThrottle.pending)))).scalar_one()
    assert not pending
    monkeypatch.setattr(auth_service, "in_hashing_thread", original)
    async with from_address(app, "203.0.113.99") as c:
        assert (await sign_in(c, "town_a_officer")).status_code == 200


# ---- attacker review: the gate and the pool, reservations that are never settled ---------------


async def test_a_flood_of_wrong_current_passwords_leaves_the_pool_to_other_requests(
    app, world
) -> None:  # type: ignore[no-untyped-def]
    """POST /me/password reads its principal first, so it holds a connection when it reserves
    its attempt. 25 loops of wrong current passwords (one user, one address) for 2 s must not
    make the throttle's gate wait while holding connections the gate's holders need: meanwhile
    an unrelated GET /me and a sign-in answer at once. (Before: 30 s, the pool timeout.)"""
    loop = asyncio.get_running_loop()
    body = {"current_password": "not-my-password", "new_password": "Correct-Horse-Battery-9"}

    async def wrong_changes(c: httpx.AsyncClient, until: float) -> Counter[int]:
        statuses: Counter[int] = Counter()
        while loop.time() < until:
            r = await c.post("/api/v1/me/password", json=body, headers=world.h("ent_a1_staff"))
            statuses[r.status_code] += 1
        return statuses

    async def timed(request: Awaitable[httpx.Response]) -> tuple[int, float]:
        started = time.perf_counter()
        r = await request
        return r.status_code, time.perf_counter() - started

    async with from_address(app, "203.0.113.90") as flood, from_address(app, "192.0.2.90") as c:
        until = loop.time() + 2.0
        loops = asyncio.gather(*(wrong_changes(flood, until) for _ in range(25)))
        await asyncio.sleep(0.5)  # the flood is under way
        (me, me_seconds), (token, sign_in_seconds) = await asyncio.gather(
            timed(c.get("/api/v1/me", headers=world.h("admin"))),
            timed(sign_in(c, "town_a_officer")),
        )
        statuses = sum(await loops, Counter())

    print(
        f"\n25 loops of wrong /me/password for 2 s: {dict(statuses)}; meanwhile GET /me "
        f"{me_seconds * 1000:.0f} ms, sign-in {sign_in_seconds * 1000:.0f} ms"
    )
    assert (me, token) == (200, 200)
    assert me_seconds < 5.0
    assert sign_in_seconds < 5.0
    assert set(statuses) <= {422, 429}, statuses
    assert statuses[422] == world.settings.login_max_failures  # no more guesses were checked


def _clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    """The throttle's clock (already a minute into a window), moved on by ``shift[0]``."""
    from app.services import auth as auth_service

    base = auth_service.utcnow
    shift = [timedelta(0)]
    monkeypatch.setattr(auth_service, "utcnow", lambda: base() + shift[0])
    return shift


async def _rows(app, keys: list[str] | None = None) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.models import LoginThrottle

    query = select(LoginThrottle.failures, LoginThrottle.pending, LoginThrottle.pending_earlier)
    if keys is not None:
        query = query.where(LoginThrottle.key.in_(keys))
    async with app.state.sessionmaker() as s:
        return sorted(tuple(row) for row in (await s.execute(query)).all())  # type: ignore[misc]


async def test_reservations_left_by_failed_settlements_lapse(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The settling commit fails (the database went away) for 5 wrong passwords: their slots
    stay reserved. They are "in flight" for a moment (429, Retry-After: 1), not for the rest of
    the window: once their generation has lapsed, the right password signs in."""
    from app.services import auth as auth_service

    shift = _clock(monkeypatch)

    async def lost(self, session):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("connection reset by peer")

    with monkeypatch.context() as m:
        m.setattr(auth_service.Attempt, "fail", lost)
        transport = httpx.ASGITransport(
            app=app, client=("203.0.113.91", 40000), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            for i in range(5):
                assert (await sign_in(c, "town_a_officer", f"wrong-{i}")).status_code >= 500
    assert await _rows(app) == [(0, 5, 0)] * 3  # nothing counted, five slots still reserved

    async with from_address(app, "203.0.113.91") as c:
        r = await sign_in(c, "town_a_officer")
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "1"
        shift[0] = timedelta(seconds=auth_service.RESERVATION_SECONDS)
        assert (await sign_in(c, "town_a_officer")).status_code == 429  # the previous generation
        shift[0] = timedelta(seconds=2 * auth_service.RESERVATION_SECONDS)
        assert (await sign_in(c, "town_a_officer")).status_code == 200
    assert await _rows(app) == [(0, 0, 0)] * 3


async def test_an_attempt_settled_in_the_next_generation_gives_its_own_slot_back(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A slot reserved just before a generation ends is settled after the next one began: it
    leaves the previous generation's count, never one that a later attempt holds."""
    from sqlalchemy import select

    from app.models import User
    from app.services.auth import RESERVATION_SECONDS, reserve_attempt

    shift = _clock(monkeypatch)
    settings = world.settings

    async def load(s):  # type: ignore[no-untyped-def]
        return (await s.execute(select(User).where(User.username == "admin"))).scalar_one()

    async with app.state.sessionmaker() as s:
        first, _ = await reserve_attempt(s, settings, "user", "admin", "203.0.113.92", load)
        shift[0] = timedelta(seconds=RESERVATION_SECONDS)
        second, _ = await reserve_attempt(s, settings, "user", "admin", "203.0.113.92", load)
        assert await _rows(app) == [(0, 1, 1)] * 3  # one slot in each generation
        await first.fail(s)
        assert await _rows(app) == [(1, 1, 0)] * 3
        await second.succeed(s)
        assert await _rows(app) == [(1, 0, 0)] * 3  # (that failure raced with it: kept)


# ---- the sliding window: failures on both sides of a window boundary count together ------------


def _boundary(settings) -> datetime:  # type: ignore[no-untyped-def]
    """The start of the current aligned throttle window (a boundary in the recent past)."""
    seconds = settings.login_window_seconds
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() // seconds * seconds, UTC)


def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The throttle's clock stands at ``at[0]``, set by the test."""
    at = [datetime.now(UTC)]
    monkeypatch.setattr("app.services.auth.utcnow", lambda: at[0])
    return at


async def test_failures_straddling_a_window_boundary_still_refuse(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """3 failures 10 s before a boundary and 2 just after it: the previous window's 3 still count
    (3 * 898/900, rounded up), so the right password is refused until their weight falls to
    2/3 (300 s into the window: Retry-After 298 from 2 s in), and accepted from then on."""
    boundary, at = _boundary(world.settings), _fixed_clock(monkeypatch)
    async with from_address(app, "203.0.113.100") as c:
        at[0] = boundary - timedelta(seconds=10)
        for _ in range(3):
            assert (await sign_in(c, "town_a_officer", "bad-password")).status_code == 401
        at[0] = boundary + timedelta(seconds=1)
        for _ in range(2):
            assert (await sign_in(c, "town_a_officer", "bad-password")).status_code == 401
        at[0] = boundary + timedelta(seconds=2)
        r = await sign_in(c, "town_a_officer")
        assert r.status_code == 429
        assert r.json()["code"] == "login_throttled"
        retry_after = int(r.headers["Retry-After"])
        assert retry_after == 298
        at[0] += timedelta(seconds=retry_after - 1)
        assert (await sign_in(c, "town_a_officer")).status_code == 429
        at[0] += timedelta(seconds=1)
        assert (await sign_in(c, "town_a_officer")).status_code == 200


async def test_five_guesses_before_a_boundary_buy_no_more_after_it(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """5 wrong guesses just before a boundary: just after it even a wrong guess is refused (a
    fixed window gave 5 more). They weigh less as the window slides: the right password is
    accepted once they count 4 (180 s into the window), or more than a window later."""
    boundary, at = _boundary(world.settings), _fixed_clock(monkeypatch)
    async with from_address(app, "203.0.113.101") as c, from_address(app, "203.0.113.102") as d:
        at[0] = boundary - timedelta(seconds=10)
        for _ in range(5):
            assert (await sign_in(c, "admin", "guess-password")).status_code == 401
            assert (await sign_in(d, "county_officer", "guess-password")).status_code == 401
        at[0] = boundary + timedelta(seconds=1)
        r = await sign_in(c, "admin", "another-guess")
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) == 179  # ceil(5 * w) <= 4 once w <= 4/5
        at[0] = boundary + timedelta(seconds=179)
        assert (await sign_in(c, "admin")).status_code == 429
        at[0] = boundary + timedelta(seconds=180)
        assert (await sign_in(c, "admin")).status_code == 200
        at[0] = boundary + timedelta(seconds=world.settings.login_window_seconds + 1)
        assert (await sign_in(d, "county_officer")).status_code == 200


async def test_a_success_forgets_the_typos_of_the_previous_window_too(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """4 typos before a boundary, the right password after it: the address has 5 guesses again,
    not one (the typos would otherwise still count 4 from the previous window), and the
    username's count forgets them too; the address's count keeps them."""
    from sqlalchemy import select

    from app.models import LoginThrottle

    boundary, at = _boundary(world.settings), _fixed_clock(monkeypatch)
    async with from_address(app, "203.0.113.103") as c:
        at[0] = boundary - timedelta(seconds=10)
        for _ in range(4):
            assert (await sign_in(c, "town_a_officer", "typo-password")).status_code == 401
        at[0] = boundary + timedelta(seconds=1)
        assert (await sign_in(c, "town_a_officer")).status_code == 200
        for _ in range(5):
            assert (await sign_in(c, "town_a_officer", "typo-password")).status_code == 401
        assert (await sign_in(c, "town_a_officer")).status_code == 429
    async with app.state.sessionmaker() as s:
        rows = (
            await s.execute(select(LoginThrottle.failures, LoginThrottle.failures_previous))
        ).all()
    # the pair and the username; the address
    assert sorted(tuple(row) for row in rows) == [(5, 0), (5, 0), (5, 4)]


async def test_a_success_settled_after_the_window_rolled_over_forgets_what_it_saw(
    app, world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """An attempt reserved just before a boundary succeeds after another attempt of the pair
    rolled the window over: the 2 typos it saw are now the previous window's, and are forgotten
    there; the failure that raced with it (in the new window) stays counted."""
    from sqlalchemy import select

    from app.models import LoginThrottle, User
    from app.services.auth import reserve_attempt

    boundary, at = _boundary(world.settings), _fixed_clock(monkeypatch)
    settings = world.settings
    address = "203.0.113.104"

    async def load(s):  # type: ignore[no-untyped-def]
        return (await s.execute(select(User).where(User.username == "admin"))).scalar_one()

    async def counts() -> list[tuple[int, int]]:
        query = select(LoginThrottle.failures, LoginThrottle.failures_previous)
        async with app.state.sessionmaker() as s:
            return sorted(tuple(row) for row in (await s.execute(query)).all())  # type: ignore[misc]

    async with app.state.sessionmaker() as s:
        at[0] = boundary - timedelta(seconds=10)
        for _ in range(2):
            typo, _ = await reserve_attempt(s, settings, "user", "admin", address, load)
            await typo.fail(s)
        at[0] = boundary - timedelta(seconds=1)
        right, _ = await reserve_attempt(s, settings, "user", "admin", address, load)
        at[0] = boundary + timedelta(seconds=1)
        racing, _ = await reserve_attempt(s, settings, "user", "admin", address, load)
        await racing.fail(s)
        assert await counts() == [(1, 2)] * 3
        await right.succeed(s)
    assert await counts() == [(1, 0), (1, 0), (1, 2)]  # the pair, the username; the address
