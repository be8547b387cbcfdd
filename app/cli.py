"""`anjian db upgrade | init | demo | serve | openapi | jobs run-once | stats rebuild | keys
status | keys rotate`, configured from the environment."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from app.core.config import get_settings


def _db_upgrade(_: argparse.Namespace) -> int:
    from app.core.migrations import upgrade

    upgrade(get_settings().resolved_database_url)
    print("database at head")
    return 0


async def _with_session(fn):  # type: ignore[no-untyped-def]
    from app.core.db import make_engine, make_sessionmaker

    engine = make_engine(get_settings().resolved_database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await fn(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _init(args: argparse.Namespace) -> int:
    from app.services.setup import AlreadyInitialised, initialise

    async def run(session):  # type: ignore[no-untyped-def]
        return await initialise(
            session,
            county_code=args.county_code,
            county_name=args.county_name,
            admin_username=args.admin_username,
            admin_password=args.admin_password,
        )

    try:
        asyncio.run(_with_session(run))
    except AlreadyInitialised as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 2
    print(f"county {args.county_code} {args.county_name} created with admin {args.admin_username}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from app.services.demo import DEMO_PASSWORD, existing_demo_summary, load_demo

    summary = asyncio.run(_with_session(lambda s: load_demo(s, only_if_empty=args.if_empty)))
    if summary is None:
        print("database already holds data; demo county not loaded")
        if not args.print_accounts:
            return 0
        # Loaded on an earlier run: still show the accounts (`make run` prints them every time).
        summary = asyncio.run(_with_session(existing_demo_summary))
        if summary is None:
            return 0
    print(summary.describe())
    if args.print_accounts and summary.accounts:
        print(f"demo accounts (password for all: {DEMO_PASSWORD}):")
        for username, role, home in summary.accounts:
            print(f"  {username:<18} {role:<20} {home}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from app.core.logging import configure_logging
    from app.server import serve

    settings = get_settings()
    configure_logging(settings.log_json)
    settings.resolved_secret_key  # noqa: B018 - create it once before workers race for it
    print(
        f"anjian serving on http://{args.host}:{args.port}  (API docs: http://{args.host}:{args.port}/docs)"
    )
    serve(args.host, args.port, args.workers)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from app.main import create_app

    schema = create_app().openapi()
    text = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def _jobs_run_once(_: argparse.Namespace) -> int:
    from app.services.jobs import run_all_once

    report = asyncio.run(run_all_once(get_settings()))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _stats_rebuild(_: argparse.Namespace) -> int:
    from app.services.hazards.rollup import rebuild

    rows = asyncio.run(_with_session(rebuild))
    print(f"hazard rollup rebuilt: {rows} rows")
    return 0


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of rows, at least 1 (got {value!r})")
    return int(value)


def _keys_status(_: argparse.Namespace) -> int:
    from app.services.public_reports.keys import status

    settings = get_settings()
    state = asyncio.run(_with_session(lambda s: status(s, settings)))
    print(f"current key id: {state.current_id}")
    print("reporter identities sealed per key:")
    for key in state.keys:
        print(f"  {key.key_id:<16}  {key.state:<8}  {key.count}")
    if state.under_old_keys:
        print(f"{state.under_old_keys} not under the current key: run `anjian keys rotate`")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from app.services.public_reports.keys import rotate

    settings = get_settings()
    done = asyncio.run(_with_session(lambda s: rotate(s, settings, args.batch_size)))
    print(
        f"reporter identities under key {done.current_id}: "
        f"{done.resealed} re-sealed, {done.already_current} already current"
    )
    if done.complete:
        return 0
    for key_id, n in sorted(done.unknown.items()):
        print(
            f"error: {n} sealed under key {key_id}, which no configured secret derives: add the "
            "secret they were sealed under to ANJIAN_PREVIOUS_SECRET_KEYS and run again",
            file=sys.stderr,
        )
    if done.unreadable:
        print(
            f"error: {done.unreadable} do not open under their key (altered, or copied from "
            "another report); left as they are",
            file=sys.stderr,
        )
    others = done.remaining - sum(done.unknown.values()) - done.unreadable
    if others > 0:
        print(
            f"error: {others} were written or changed under an old key while rotating: run again",
            file=sys.stderr,
        )
    print(
        f"error: {done.remaining} not under the current key; keep the old secrets", file=sys.stderr
    )
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anjian", description="安监 work-safety supervision service"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(func=_db_upgrade)

    init = sub.add_parser("init", help="create the county and its first administrator (once)")
    init.add_argument("--county-code", required=True)
    init.add_argument("--county-name", required=True)
    init.add_argument("--admin-username", required=True)
    init.add_argument("--admin-password", required=True)
    init.set_defaults(func=_init)

    demo = sub.add_parser("demo", help="load the demo county (idempotent)")
    demo.add_argument(
        "--if-empty", action="store_true", help="only when the database holds no county yet"
    )
    demo.add_argument("--print-accounts", action="store_true", help="print the demo accounts")
    demo.set_defaults(func=_demo)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)

    openapi = sub.add_parser("openapi", help="write the OpenAPI schema")
    openapi.add_argument("--output", default="openapi.json")
    openapi.set_defaults(func=_openapi)

    jobs = sub.add_parser("jobs", help="background jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser(
        "run-once", help="enqueue the due periodic jobs and run the queue once (for cron)"
    ).set_defaults(func=_jobs_run_once)

    stats = sub.add_parser("stats", help="the statistics rollup")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    stats_sub.add_parser(
        "rebuild", help="recompute the hazard rollup from the hazards (after a bulk load)"
    ).set_defaults(func=_stats_rebuild)

    keys = sub.add_parser("keys", help="the keys sealing reporters' identities")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "status", help="how many identities each key seals, and which key is current"
    ).set_defaults(func=_keys_status)
    rotate = keys_sub.add_parser(
        "rotate", help="re-seal every identity under the current key (then drop the old secret)"
    )
    rotate.add_argument(
        "--batch-size", type=_positive, default=500, help="rows per transaction (default 500)"
    )
    rotate.set_defaults(func=_keys_rotate)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:  # a bad ANJIAN_* setting: say which, without a traceback
        for error in exc.errors():
            name = "ANJIAN_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"configuration error: {name}: {error['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
