"""About 600 demo inspections over the last year, in every state, with their events.

Built on the demo hazards: each hazard government found by inspection in the last year is a
finding of an inspection of its enterprise on the day it was found, so the inspections' findings
are the demo's hazards, linked both ways. The rest are visits with nothing found, enterprises'
own quarterly self-inspections, plans for the coming weeks, and a few cancelled. Decisions,
exact fines (一案双罚 among them) and one blacklisted enterprise. Deterministic (seeded) and
loaded once: nothing is added when the county already has inspections.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import local_today, zone
from app.core.ids import new_id
from app.models import (
    BlacklistEntry,
    Checklist,
    Enterprise,
    Hazard,
    Inspection,
    InspectionAssignee,
    InspectionCounter,
    InspectionDecision,
    InspectionEvent,
    OrgUnit,
    User,
)
from app.services.inspections.service import decision_rows

SEED = 20261201
TZ = "Asia/Shanghai"
EXTRA_VISITS = 170  # routine and campaign visits that found nothing
SELF_INSPECTIONS = 120
PLANNED = 30
CAMPAIGNS = ("安全生产治本攻坚三年行动", "岁末年初安全生产重点时段", "城镇燃气安全专项整治", None)
KINDS = (
    ("routine", 45),
    ("key_period", 10),
    ("special_campaign", 12),
    ("unannounced", 10),
    ("double_random", 8),
    ("follow_up", 5),
    ("cross_regional", 3),
    ("accident_prevention", 3),
    ("natural_disaster", 2),
    ("expert_guidance", 2),
)


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone(TZ))
    return local.astimezone(UTC)


def _team(
    ent: Enterprise, town_a: str | None, bureau: OrgUnit | None, teams: dict[str, list[User]]
) -> tuple[str, list[User]]:
    """Who inspects an enterprise: its own town's team when the town has one, else the bureau
    of its sector, else the county's."""
    if town_a and ent.region_code.startswith(town_a) and teams.get("town"):
        return "town", teams["town"]
    if bureau is not None and ent.sector in (bureau.sectors or []) and teams.get("bureau"):
        return "bureau", teams["bureau"]
    return "county", teams["county"]


async def load_demo_inspections(
    session: AsyncSession,
    enterprises: list[Enterprise],
    users: dict[str, User],
    units: dict[str, OrgUnit],
) -> int:
    """``units``: ``county``, ``town`` (the demo town officers' town) and ``bureau``."""
    county = enterprises[0].region_code[:6] if enterprises else None
    if county is None:
        return 0
    counted = select(func.count(Inspection.id)).where(Inspection.county_code == county)
    if (await session.execute(counted)).scalar_one():
        return 0
    rng = random.Random(SEED)
    today = local_today(TZ)
    year_ago = today - timedelta(days=365)
    teams = {
        "town": [
            users[n] for n in ("town_officer", "town_inspector", "town_inspector2") if n in users
        ],
        "bureau": [
            users[n] for n in ("bureau_officer", "bureau_inspector", "bureau_manager") if n in users
        ],
        "county": [users[n] for n in ("county_officer", "county_manager") if n in users],
    }
    if len(teams["county"]) < 2:
        return 0
    expert = users.get("county_expert")
    town, bureau = units.get("town"), units.get("bureau")
    unit_of = {"town": town, "bureau": bureau, "county": units["county"]}
    town_code = town.region_code if town else None
    by_id = {e.id: e for e in enterprises}

    # The starter checklists (migration 0017), the first of each sector: what a visit follows.
    starters: dict[str, Checklist] = {}
    for c in (
        await session.execute(
            select(Checklist).where(Checklist.county_code.is_(None)).order_by(Checklist.code)
        )
    ).scalars():
        if c.sector:
            starters.setdefault(c.sector, c)
    used_checklists: set[str] = set()
    inspections: list[Inspection] = []
    events: list[InspectionEvent] = []
    decisions: list[InspectionDecision] = []
    assignees: list[InspectionAssignee] = []
    per_year: Counter[int] = Counter()
    links: list[dict[str, str]] = []  # hazard -> the inspection that found it

    def event(
        i: Inspection,
        action: str,
        frm: str | None,
        to: str,
        at: datetime,
        who: User | None,
        **payload: Any,
    ) -> None:
        events.append(
            InspectionEvent(
                id=new_id(),
                inspection_id=i.id,
                action=action,
                from_status=frm,
                to_status=to,
                actor_kind="user",
                actor_id=who.id if who else None,
                actor_name=who.display_name if who else None,
                note=payload.pop("note", None),
                payload=payload,
                attachment_ids=[],
                created_at=at,
            )
        )

    def new(
        ent: Enterprise, kind: str, day: date, team_key: str | None, people: list[User]
    ) -> Inspection:
        follows = None
        if kind == "follow_up":  # 回头检查 of an earlier signed visit with findings, else routine
            earlier = [
                x
                for x in inspections
                if x.enterprise_id == ent.id
                and x.findings
                and x.planned_for < day
                and x.status == "signed"
            ]
            if earlier:
                follows = earlier[-1].id
            else:
                kind = "routine"
        per_year[day.year] += 1
        planned_at = _at(day - timedelta(days=rng.randint(3, 20)), 9, rng)
        unit = unit_of[team_key] if team_key else None
        i = Inspection(
            id=new_id(),
            number=f"J{day.year}-{per_year[day.year]:06d}",
            county_code=county,
            kind=kind,
            enterprise_id=ent.id,
            conducting_unit_id=unit.id if unit else None,
            campaign=rng.choice(CAMPAIGNS) if kind in ("special_campaign", "key_period") else None,
            planned_for=day,
            status="planned",
            inspectors=[u.id for u in people],
            experts=[expert.id] if expert and kind == "expert_guidance" else [],
            results=[],
            findings=[],
            signatures=[],
            amendments=[],
            rectification_checks=[],
            follows_inspection_id=follows,
            checklist_id=starters[ent.sector].id
            if ent.sector in starters and kind != "self_inspection"
            else None,
            outcome=None,
            findings_count=0,
            major_findings_count=0,
            exempt_findings_count=0,
            entity_fine_fen=0,
            person_fine_fen=0,
            created_by=f"user:{people[0].id}" if people else None,
            version=1,
            created_at=planned_at,
            updated_at=planned_at,
        )
        inspections.append(i)
        assignees.extend(
            InspectionAssignee(inspection_id=i.id, user_id=u.id, role="inspector") for u in people
        )
        assignees.extend(
            InspectionAssignee(inspection_id=i.id, user_id=u, role="expert") for u in i.experts
        )
        event(i, "plan", None, "planned", planned_at, people[0] if people else None, kind=kind)
        return i

    def run(i: Inspection, people: list[User], found: list[Hazard], sign: bool = True) -> None:
        """Start, findings, completion with decisions, and (mostly) signatures."""
        day = i.planned_for
        i.started_at = _at(day, 8, rng)
        if found:
            i.started_at = min(i.started_at, min(h.found_at for h in found) - timedelta(minutes=20))
        i.status = "in_progress"
        event(i, "start", "planned", "in_progress", i.started_at, people[0] if people else None)
        for h in found:
            links.append({"hid": h.id, "iid": i.id})
            i.findings = [*i.findings, {"hazard_id": h.id, "item_code": None, "exempt": False}]
            i.findings_count += 1
            i.major_findings_count += h.level == "major"
            event(
                i,
                "add_finding",
                "in_progress",
                "in_progress",
                h.found_at,
                people[0] if people else None,
                hazard_id=h.id,
                hazard_number=h.number,
                exempt=False,
            )
        checklist = next((c for c in starters.values() if c.id == i.checklist_id), None)
        if checklist is not None:  # every item answered; the first one failed when found
            at = i.started_at + timedelta(minutes=40)
            i.results = [
                {
                    "item_code": item["code"],
                    "result": "finding" if found and n == 0 else "ok",
                    "note": None,
                    "attachment_ids": [],
                    "recorded_by": people[0].id if people else None,
                    "recorded_at": at.isoformat(),
                }
                for n, item in enumerate(checklist.items)
            ]
            if found:
                first = checklist.items[0]["code"]
                i.findings = [
                    {**f, "item_code": first} if k == 0 else f for k, f in enumerate(i.findings)
                ]
            event(
                i,
                "record_results",
                "in_progress",
                "in_progress",
                at,
                people[0] if people else None,
                items=[r["item_code"] for r in i.results],
            )
        if day >= today - timedelta(days=1) and rng.random() < 0.6:
            return  # still in progress
        rows = _decisions(rng, i, found, by_id[i.enterprise_id])
        i.outcome = {"decisions": rows, "note": None}
        i.entity_fine_fen = sum(d.get("entity_fine_fen") or 0 for d in rows)
        i.person_fine_fen = sum(d.get("person_fine_fen") or 0 for d in rows)
        decisions.extend(decision_rows(i.id, rows))
        i.completed_at = _at(day, 17, rng)
        if found:
            i.completed_at = max(
                i.completed_at, max(h.found_at for h in found) + timedelta(minutes=30)
            )
        i.status = "completed"
        event(
            i,
            "complete",
            "in_progress",
            "completed",
            i.completed_at,
            people[0] if people else None,
            decisions=[d["kind"] for d in rows],
        )
        if not sign or (day >= today - timedelta(days=3) and rng.random() < 0.5):
            return  # awaiting signatures
        for n, u in enumerate(people):
            at = i.completed_at + timedelta(minutes=5 + n)
            i.signatures = [
                *i.signatures,
                {
                    "user_id": u.id,
                    "name": u.display_name,
                    "enforcement_cert_no": u.enforcement_cert_no,
                    "signed_at": at.isoformat(),
                },
            ]
            last = n == len(people) - 1
            event(
                i,
                "sign",
                "completed",
                "signed" if last else "completed",
                at,
                u,
                signed=n + 1,
                of=len(people),
            )
        i.status, i.signed_at = "signed", i.completed_at + timedelta(minutes=5 + len(people))
        if i.checklist_id:
            used_checklists.add(i.checklist_id)
        i.signed_snapshot = {
            "number": i.number,
            "results": list(i.results),
            "findings": list(i.findings),
            "outcome": i.outcome,
            "signatures": list(i.signatures),
        }
        i.updated_at = i.signed_at

    # 1. Every hazard found by inspection in the last year: a finding of that day's visit.
    found = (
        (
            await session.execute(
                select(Hazard)
                .where(
                    Hazard.county_code == county,
                    Hazard.source == "inspection",
                    Hazard.found_at >= _at(year_ago, 0, rng),
                    Hazard.inspection_id.is_(None),
                )
                .order_by(Hazard.found_at, Hazard.id)
            )
        )
        .scalars()
        .all()
    )
    visits: dict[tuple[str, date], list[Hazard]] = defaultdict(list)
    for h in found:
        visits[(h.enterprise_id, h.found_at.astimezone(zone(TZ)).date())].append(h)
    for (ent_id, day), hazards in visits.items():
        ent = by_id.get(ent_id)
        if ent is None:
            continue
        key, people = _team(ent, town_code, bureau, teams)
        kind = rng.choices([k for k, _ in KINDS[:-1]], [w for _, w in KINDS[:-1]])[0]
        i = new(ent, kind, day, key, people[:2] if rng.random() < 0.7 else people)
        run(i, i_people(i, people), hazards)

    # 2. Visits that found nothing, and a few plans cancelled.
    for _ in range(EXTRA_VISITS):
        ent = rng.choice(enterprises)
        day = year_ago + timedelta(days=rng.randint(0, 364))
        key, people = _team(ent, town_code, bureau, teams)
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        team = people[:1] if kind == "expert_guidance" else people[:2]
        i = new(ent, kind, day, key, team)
        if rng.random() < 0.04:
            i.status, i.cancel_reason = "cancelled", "企业停产检修，改期检查"
            event(
                i,
                "cancel",
                "planned",
                "cancelled",
                _at(day - timedelta(days=1), 10, rng),
                team[0],
                note=i.cancel_reason,
            )
            continue
        run(i, team, [])

    # 3. Enterprises' own self-inspections (企业自查), led by their people.
    ent_people = [u for u in users.values() if u.enterprise_id]
    for n in range(SELF_INSPECTIONS):
        ent = enterprises[n % len(enterprises)]
        own = [u for u in ent_people if u.enterprise_id == ent.id][:1]
        day = year_ago + timedelta(days=rng.randint(0, 364))
        i = new(ent, "self_inspection", day, None, own)
        # An enterprise without accounts here recorded it on paper: completed, not signed.
        run(i, own, [], sign=bool(own))

    # 4. Plans for the coming weeks: an enterprise never sees these.
    for _ in range(PLANNED):
        ent = rng.choice(enterprises)
        key, people = _team(ent, town_code, bureau, teams)
        kind = rng.choice(("routine", "unannounced", "double_random", "key_period"))
        new(ent, kind, today + timedelta(days=rng.randint(1, 30)), key, people[:2])

    # One blacklisted enterprise (联合惩戒), by a signed closure decision.
    blacklisted = await _blacklist(rng, inspections, decisions, events, by_id, today)

    session.add_all(inspections)
    await session.flush()
    session.add_all(assignees)
    session.add_all(events)
    session.add_all(decisions)
    if blacklisted is not None:
        session.add(blacklisted)
    for c in starters.values():  # a checklist a signed record used never changes
        c.locked = c.locked or c.id in used_checklists
    if links:  # the hazards point back (written as they were: no new version, no new date)
        table = Hazard.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("hid"))
            .values(inspection_id=bindparam("iid")),
            links,
        )
    for year, last in per_year.items():
        session.add(InspectionCounter(county_code=county, year=year, last=last))
    await session.flush()
    return len(inspections)


def i_people(i: Inspection, people: list[User]) -> list[User]:
    listed = set(i.inspectors)
    return [u for u in people if u.id in listed]


def _decisions(
    rng: random.Random, i: Inspection, found: list[Hazard], ent: Enterprise
) -> list[dict[str, Any]]:
    if not found:
        return [{"kind": "no_issue"}]
    deadline = max(h.deadline for h in found)
    rows: list[dict[str, Any]] = [
        {"kind": "rectification_order", "deadline": deadline.isoformat(), "note": None}
    ]
    if i.kind in ("self_inspection", "expert_guidance"):
        return rows
    roll = rng.random()
    major = any(h.level == "major" for h in found)
    if major and roll < 0.5:
        start = i.planned_for + timedelta(days=1)
        rows.append(
            {
                "kind": "suspension",
                "from_date": start.isoformat(),
                "to_date": (start + timedelta(days=30)).isoformat(),
                "note": None,
            }
        )
    if roll < 0.35 or major:
        entity = rng.choice((10_000, 20_000, 30_000, 50_000)) * 100
        person = rng.choice((0, 0, 5_000, 8_000)) * 100
        rows.append(
            {
                "kind": "fine",
                "entity_fine_fen": entity,
                "person_fine_fen": person or None,
                "person_name": f"{ent.name[:2]}主要负责人" if person else None,
                "hazard_ids": None,
                "note": None,
            }
        )
    return rows


async def _blacklist(
    rng: random.Random,
    inspections: list[Inspection],
    decisions: list[InspectionDecision],
    events: list[InspectionEvent],
    by_id: dict[str, Enterprise],
    today: date,
) -> BlacklistEntry | None:
    """The gravest signed enforcement record (a major finding, fined) also decides the
    blacklist: the enterprise is listed from its signing."""
    signed = [
        i
        for i in inspections
        if i.status == "signed" and i.major_findings_count and i.kind != "self_inspection"
    ]
    if not signed:
        return None
    i = max(signed, key=lambda x: (x.entity_fine_fen, x.planned_for))
    note = "存在重大事故隐患拒不整改，纳入联合惩戒黑名单"
    row = {"kind": "blacklist", "note": note}
    i.outcome = {**(i.outcome or {}), "decisions": [*(i.outcome or {}).get("decisions", []), row]}
    if i.signed_snapshot is not None:
        i.signed_snapshot = {**i.signed_snapshot, "outcome": i.outcome}
    decisions.append(
        InspectionDecision(id=new_id(), inspection_id=i.id, kind="blacklist", note=note)
    )
    return BlacklistEntry(
        id=new_id(),
        enterprise_id=i.enterprise_id,
        listed_at=i.signed_at or datetime.now(UTC),
        reason=f"{by_id[i.enterprise_id].name}：{note}",
        decided_by_inspection_id=i.id,
        decided_by_unit_id=i.conducting_unit_id,
    )
