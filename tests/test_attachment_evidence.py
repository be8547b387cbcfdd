"""Evidence uploaded straight onto a hazard (``hazard_id``): who may give acceptance evidence,
the ``attach`` event, and citing such a file in the action it supports (issue 8, items 18, 19)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, MAJOR_PLAN, act, png_bytes, register, upload

# within the default deadline (30 days) of hazards registered by enterprise users
SOON = (date.today() + timedelta(days=10)).isoformat()
PLAN = GENERAL_PLAN | {"deadline": SOON}


async def upload_onto(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, hazard_id: str, phase: str | None = None, **extra: Any
):
    form = {"hazard_id": hazard_id} | ({"phase": phase} if phase else {})
    return await client.post(
        "/api/v1/attachments",
        files={"file": ("evidence.png", extra.get("data", png_bytes()), "image/png")},
        data=form,
        headers=world.h(actor),
    )


async def uploaded_onto(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, hazard_id: str, phase: str | None = None
) -> dict[str, Any]:
    r = await upload_onto(client, world, actor, hazard_id, phase)
    assert r.status_code == 201, r.text
    return r.json()


async def events(client, world: World, hazard_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/hazards/{hazard_id}/events", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def hazard(client, world: World, hazard_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("admin"))
    return r.json()


async def awaiting_acceptance(client, world: World, actor: str, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    h = await register(client, world, actor, **fields)
    plan = MAJOR_PLAN | {"deadline": SOON} if h["level"] == "major" else PLAN
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=plan)
    assert r.status_code == 200, r.text
    photo = await upload(client, world, "ent_a1_manager")
    r = await act(client, world, "ent_a1_manager", h["id"], "complete", attachment_ids=[photo])
    assert r.status_code == 200, r.text
    return r.json()


# ---- item 18: acceptance evidence comes from whoever may accept ------------------------------------


async def test_enterprise_staff_cannot_upload_acceptance_evidence_to_its_own_hazard(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await awaiting_acceptance(client, world, "ent_a1_staff")  # general, self-found
    r = await upload_onto(client, world, "ent_a1_staff", h["id"], "acceptance")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "acceptance_evidence_forbidden"
    assert r.headers["content-type"].startswith("application/problem+json")
    # nothing was stored or recorded
    assert [a["phase"] for a in (await hazard(client, world, h["id"]))["attachments"]] == [
        "rectification"
    ]
    assert "attach" not in [e["action"] for e in await events(client, world, h["id"])]


async def test_acceptance_evidence_follows_the_accept_rule(client, world: World) -> None:  # type: ignore[no-untyped-def]
    self_found = await awaiting_acceptance(client, world, "ent_a1_staff")
    found_by_town = await awaiting_acceptance(client, world, "town_a_officer")
    major = await awaiting_acceptance(client, world, "ent_a1_staff", level="major")
    cases = [
        # (hazard, actor, may accept it, so may give acceptance evidence)
        (self_found, "ent_a1_manager", True),  # 审核把关销号 of its own general self-found hazard
        (self_found, "ent_a1_staff", False),
        (self_found, "town_a_officer", True),
        (found_by_town, "ent_a1_manager", False),  # found by government: government signs off
        (found_by_town, "town_a_inspector", True),
        (found_by_town, "bureau_e_officer", True),
        (major, "ent_a1_manager", False),
        (major, "county_officer", True),
    ]
    for h, actor, may in cases:
        offered = (
            "accept"
            in (await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor))).json()[
                "allowed_actions"
            ]
        )
        assert offered is may, (h["title"], actor)
        r = await upload_onto(client, world, actor, h["id"], "acceptance")
        assert r.status_code == (201 if may else 403), (actor, r.text)


async def test_without_a_phase_those_who_cannot_accept_add_rectification_evidence(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await awaiting_acceptance(client, world, "town_a_officer")
    staff = await uploaded_onto(client, world, "ent_a1_staff", h["id"])
    officer = await uploaded_onto(client, world, "town_a_officer", h["id"])
    assert (staff["phase"], officer["phase"]) == ("rectification", "acceptance")


async def test_every_upload_onto_a_hazard_writes_an_attach_event(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer")
    before = await events(client, world, h["id"])
    a = await uploaded_onto(client, world, "town_a_officer", h["id"])
    b = await uploaded_onto(client, world, "ent_a1_staff", h["id"], "rectification")
    history = await events(client, world, h["id"])
    assert history[: len(before)] == before
    attach = history[len(before) :]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in attach] == [
        ("attach", "registered", "registered"),
        ("attach", "registered", "registered"),
    ]
    assert [e["attachment_ids"] for e in attach] == [[a["id"]], [b["id"]]]
    assert [e["details"] for e in attach] == [
        {"attachment_id": a["id"], "phase": "discovery"},
        {"attachment_id": b["id"], "phase": "rectification"},
    ]
    assert [e["actor"]["id"] for e in attach] == [world["town_a_officer"], world["ent_a1_staff"]]
    # the hazard itself is unchanged: an If-Match read before the upload still holds
    got = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    assert got.headers["etag"] == '"v1"'


async def test_a_refused_upload_onto_a_hazard_leaves_no_event_and_no_file(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer")
    r = await upload_onto(
        client, world, "town_a_officer", h["id"], data=b"<html><script>1</script></html>"
    )
    assert r.status_code == 415
    assert [e["action"] for e in await events(client, world, h["id"])] == ["register"]
    assert (await hazard(client, world, h["id"]))["attachments"] == []


async def test_attach_is_a_documented_event_action(client, world: World) -> None:  # type: ignore[no-untyped-def]
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    actions = schema["HazardEventOut"]["properties"]["action"]["enum"]
    assert {"attach", "register", "mark_overdue", "complete"} <= set(actions)


# ---- item 19: such a file is valid evidence when cited, and found when not ---------------------------


async def _rectifying(client, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer")
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=PLAN)
    assert r.status_code == 200, r.text
    return r.json()


async def test_rectification_evidence_uploaded_onto_the_hazard_may_be_cited_in_complete(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await _rectifying(client, world)
    photo = await uploaded_onto(client, world, "ent_a1_staff", h["id"], "rectification")
    # another user of the enterprise completes and cites it
    r = await act(
        client, world, "ent_a1_manager", h["id"], "complete", attachment_ids=[photo["id"]]
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "awaiting_acceptance"
    assert [(a["id"], a["phase"]) for a in done["attachments"]] == [(photo["id"], "rectification")]
    history = await events(client, world, h["id"])
    assert [e["action"] for e in history] == ["register", "plan", "attach", "complete"]
    assert history[-1]["attachment_ids"] == [photo["id"]]


async def test_rectification_evidence_uploaded_onto_the_hazard_counts_without_citing_it(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await _rectifying(client, world)
    photo = await uploaded_onto(client, world, "ent_a1_staff", h["id"])
    assert photo["phase"] == "rectification"
    r = await act(client, world, "ent_a1_staff", h["id"], "complete")
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()["attachments"]] == [photo["id"]]
    history = await events(client, world, h["id"])
    assert [e["action"] for e in history] == ["register", "plan", "attach", "complete"]
    assert history[-1]["attachment_ids"] == []


async def test_cited_with_a_new_upload_both_count_once(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await _rectifying(client, world)
    onto = await uploaded_onto(client, world, "ent_a1_staff", h["id"], "rectification")
    fresh = await upload(client, world, "ent_a1_staff")
    r = await act(
        client,
        world,
        "ent_a1_staff",
        h["id"],
        "complete",
        attachment_ids=[onto["id"], fresh, onto["id"]],
    )
    assert r.status_code == 200, r.text
    assert sorted(a["id"] for a in r.json()["attachments"]) == sorted([onto["id"], fresh])
    history = await events(client, world, h["id"])
    assert [e["action"] for e in history].count("attach") == 1
    assert history[-1]["attachment_ids"] == [onto["id"], fresh]


async def test_fix_on_spot_and_accept_may_cite_evidence_uploaded_onto_the_hazard(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "ent_a1_staff")
    after = await uploaded_onto(client, world, "ent_a1_staff", h["id"], "rectification")
    r = await act(
        client, world, "ent_a1_staff", h["id"], "fix_on_spot", attachment_ids=[after["id"]]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"

    h = await awaiting_acceptance(client, world, "town_a_officer")
    record = await uploaded_onto(client, world, "town_a_inspector", h["id"], "acceptance")
    r = await act(client, world, "county_officer", h["id"], "accept", attachment_ids=[record["id"]])
    assert r.status_code == 200, r.text
    phases = sorted((a["id"] == record["id"], a["phase"]) for a in r.json()["attachments"])
    assert phases == [(False, "rectification"), (True, "acceptance")]


async def test_citing_a_file_of_another_phase_or_hazard_stays_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await _rectifying(client, world)
    other = await _rectifying(client, world)
    discovery = await uploaded_onto(client, world, "town_a_officer", h["id"], "discovery")
    elsewhere = await uploaded_onto(client, world, "ent_a1_staff", other["id"], "rectification")
    theirs = await upload(client, world, "town_a_officer")  # unbound, not the caller's
    for cited in (discovery["id"], elsewhere["id"], theirs, "no-such-attachment"):
        r = await act(client, world, "ent_a1_staff", h["id"], "complete", attachment_ids=[cited])
        assert r.status_code == 422, (cited, r.text)
        assert r.json()["code"] == "invalid_attachment"
        assert cited in r.json()["detail"]
    # nothing moved
    assert [
        (a["id"], a["phase"]) for a in (await hazard(client, world, h["id"]))["attachments"]
    ] == [(discovery["id"], "discovery")]
    assert (await hazard(client, world, other["id"]))["attachments"][0]["id"] == elsewhere["id"]
    # and fix_on_spot may not cite a discovery photo uploaded onto the hazard either
    spot = await register(client, world, "ent_a1_staff")
    before = await uploaded_onto(client, world, "ent_a1_staff", spot["id"])
    assert before["phase"] == "discovery"
    r = await act(
        client, world, "ent_a1_staff", spot["id"], "fix_on_spot", attachment_ids=[before["id"]]
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"


async def test_one_upload_cited_for_two_hazards_at_once_is_bound_to_one(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    a = await _rectifying(client, world)
    b = await _rectifying(client, world)
    photo = await upload(client, world, "ent_a1_staff")
    answers = await asyncio.gather(
        *(
            act(client, world, "ent_a1_staff", h["id"], "complete", attachment_ids=[photo])
            for h in (a, b)
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 422], [r.text for r in answers]
    owners = [len((await hazard(client, world, h["id"]))["attachments"]) for h in (a, b)]
    assert sorted(owners) == [0, 1]
