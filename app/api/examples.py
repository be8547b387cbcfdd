"""Request examples for the OpenAPI schema (``openapi_examples`` on the body parameter) and the
documentation generated from the hazard workflow table.

Content comes from the demo county, 安徽省宿州市埇桥区 (app/services/demo.py and
app/services/demo_hazards.py). Ids are what a client holds from earlier answers; the
placeholders below stand for them. tests/test_openapi_docs.py validates every example in the
schema against its request model and sends these examples to the service (with the
placeholders replaced by real ids), so an example that stops being accepted fails a test.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from fastapi.openapi.models import Example
from pydantic import BaseModel

from app.schemas.hazards import HazardStatus, Transition
from app.services.hazards.workflow import MACHINE
from app.services.lifecycle import Machine

# ---- ids a client would have read before (placeholders; the tests substitute real ones) -------
COUNTY_ID = "0193a1b2-5c00-7a11-8c3e-2f4d6b8a0c01"  # 埇桥区 (the county unit)
TOWN_ID = "0193a1b2-5c01-7b22-9d4f-3a5e7c9b1d02"  # 埇桥街道
BUREAU_ID = "0193a1b2-5c02-7c33-ae50-4b6f8dac2e03"  # 区应急管理局
ENTERPRISE_ID = "0193a1b3-0e10-7e55-8072-6d81afce4015"  # 宿州市恒通机械制造有限公司
SUPERVISOR_ID = "0193a1b3-4f20-7f66-9183-7e92b0df5126"  # 陈静, officer of 埇桥街道
ATTACHMENT_IDS = (
    "0193b7c4-1a30-7a77-a294-8fa3c1e06237",
    "0193b7c4-1a31-7b88-b3a5-90b4d2f17348",
    "0193b7c4-1a32-7c99-84b6-a1c5e3082459",
)

# ---- creates ---------------------------------------------------------------------------------

HAZARD_CREATE: dict[str, Example] = {
    "inspection": {
        "summary": "General hazard found by a town inspection (检查发现的一般隐患)",
        "description": "Government registers it with a discovery photo uploaded first "
        "(`POST /api/v1/attachments`); the deadline lies within the bound, so no "
        "`deadline_reason` is needed.",
        "value": {
            "enterprise_id": ENTERPRISE_ID,
            "title": "配电箱未可靠接地",
            "description": "一号车间东侧动力配电箱 PE 线断开，箱体未接地，存在触电风险。",
            "location": "一号车间东侧",
            "level": "general",
            "source": "inspection",
            "category": "unsafe_condition",
            "found_at": "2026-11-30T09:30:00+08:00",
            "deadline": "2026-12-15",
            "attachment_ids": [ATTACHMENT_IDS[0]],
        },
    },
    "major": {
        "summary": "Major hazard with its judgment (重大事故隐患，附判定依据)",
        "description": "A major hazard names the clause of the 重大事故隐患判定标准 it meets "
        "(422 `judgment_required` otherwise): a code of its standard's clauses "
        "(GET /api/v1/catalogs/judgment-standards/{standard_code}; here 工贸 第十一条第（三）项, "
        "dry dust collection without explosion control), else 422 `unknown_judgment_clause`. "
        "Its deadline may be up to 365 days away.",
        "value": {
            "enterprise_id": ENTERPRISE_ID,
            "title": "抛光车间除尘系统未设置泄爆装置",
            "description": "抛光工段干式除尘器未设置泄爆装置，铝粉尘积聚，遇点火源可能发生粉尘爆炸。",
            "location": "二号车间（抛光工段）",
            "level": "major",
            "source": "inspection",
            "category": "unsafe_condition",
            "found_at": "2026-11-28T10:15:00+08:00",
            "deadline": "2027-02-28",
            "judgment": {
                "standard": "industry_trade",
                "clause": "11.3",
                "text": "粉尘爆炸危险场所未按规定设置泄爆装置",
            },
        },
    },
    "self_inspection": {
        "summary": "Found by the enterprise itself (企业自查)",
        "description": "An enterprise user registers what it finds now: `source` defaults to "
        "`self_inspection`, `found_at` to now and the deadline to 30 days.",
        "value": {
            "enterprise_id": ENTERPRISE_ID,
            "title": "消防通道堆放杂物",
            "description": "成品库北侧消防通道堆放包装纸箱，通道宽度不足 1 米。",
            "location": "成品库北侧",
            "level": "general",
            "category": "unsafe_condition",
            "attachment_ids": [ATTACHMENT_IDS[0]],
        },
    },
}

ENTERPRISE_CREATE: dict[str, Example] = {
    "complete": {
        "summary": "An industry-and-trade enterprise with its contacts (工贸企业)",
        "value": {
            "name": "宿州市恒通机械制造有限公司",
            "credit_code": "91341302MA8N3K7Q2M",
            "region_code": "341302001003",
            "sector": "industry_trade",
            "enforcement_department_id": BUREAU_ID,
            "address": "安徽省宿州市埇桥区埇桥街道淮海中路188号",
            "location": {"lat": 33.641, "lng": 116.978},
            "industry_code": "3499",
            "scale": "small",
            "risk_color": "yellow",
            "standardization_grade": "level_3",
            "principal": {"name": "王伟", "phone": "13905571234"},
            "actual_controller": {"name": "王建华", "phone": "0557-3021888"},
        },
    },
    "minimal": {
        "summary": "The required fields only: a filling station (加油站，危险化学品)",
        "value": {
            "name": "宿州市埇桥区符离隋唐加油站",
            "credit_code": "92341302MA4P8R1B32",
            "region_code": "341302100005",
            "sector": "hazardous_chemicals",
            "enforcement_department_id": BUREAU_ID,
        },
    },
}

ORG_UNIT_CREATE: dict[str, Example] = {
    "town": {
        "summary": "A town (乡镇) with its 9-digit region code",
        "value": {
            "kind": "town",
            "name": "朱仙庄镇",
            "name_en": "Zhuxianzhuang Town",
            "region_code": "341302106",
        },
    },
    "bureau": {
        "summary": "A sectoral bureau (行业主管部门) and the sectors it supervises",
        "value": {
            "kind": "bureau",
            "name": "区市场监督管理局",
            "name_en": "District Administration for Market Regulation",
            "sectors": ["special_equipment", "commerce"],
        },
    },
}

USER_CREATE: dict[str, Example] = {
    "town_inspector": {
        "summary": "An inspector of a town (乡镇检查执法人员)",
        "value": {
            "username": "zhu.jing",
            "password": "Huaihe#2026-safe",
            "display_name": "朱静",
            "phone": "13805578866",
            "role": "inspector",
            "org_unit_id": TOWN_ID,
        },
    },
    "enterprise_staff": {
        "summary": "An enterprise's safety officer (企业安全员)",
        "value": {
            "username": "hengtong.anquan",
            "password": "Hengtong@Safety88",
            "display_name": "何芳",
            "role": "enterprise_staff",
            "enterprise_id": ENTERPRISE_ID,
        },
    },
}

CLIENT_CREATE: dict[str, Example] = {
    "provincial_exchange": {
        "summary": "A provincial data-exchange integration that reads (省级数据交换)",
        "description": "The answer carries `client_secret` once; store it at once.",
        "value": {
            "name": "省应急管理厅数据交换平台",
            "org_unit_id": COUNTY_ID,
            "permissions": [
                "catalogs:read",
                "enterprises:read",
                "hazards:read",
                "attachments:read",
                "statistics:read",
            ],
        },
    },
}

# ---- updates ---------------------------------------------------------------------------------

ENTERPRISE_UPDATE: dict[str, Example] = {
    "risk": {
        "summary": "Government re-rates the enterprise (风险等级调整)",
        "value": {"risk_color": "orange", "standardization_grade": "level_2"},
    },
    "contacts": {
        "summary": "The enterprise changes its own contacts (企业用户只能修改联系人)",
        "value": {"principal": {"name": "王伟", "phone": "13905570606"}},
    },
}

ORG_UNIT_UPDATE: dict[str, Example] = {
    "sectors": {
        "summary": "A bureau takes on another sector",
        "value": {"sectors": ["special_equipment", "commerce", "culture_tourism"]},
    },
}

USER_UPDATE: dict[str, Example] = {
    "deactivate": {
        "summary": "Deactivate an account (停用账号; ends its sessions at once)",
        "value": {"is_active": False},
    },
    "contact": {
        "summary": "Correct the name and phone (keeps the user signed in)",
        "value": {"display_name": "朱静", "phone": "13805579900"},
    },
}

CLIENT_UPDATE: dict[str, Example] = {
    "permissions": {
        "summary": "Narrow the permissions of a machine client",
        "value": {"permissions": ["catalogs:read", "hazards:read"]},
    },
}

CLIENT_ROTATION: dict[str, Example] = {
    "scheduled": {
        "summary": "Scheduled rotation: the previous secret works for the overlap",
        "value": {},
    },
    "leaked": {
        "summary": "A leaked secret: end it and its tokens at once",
        "value": {"revoke_previous": True},
    },
}

# ---- hazard transitions: at least one example per action (keys start with the action) --------

TRANSITION_EXAMPLES: dict[str, Example] = {
    "plan": {
        "summary": "plan: a general hazard's rectification plan (整改方案)",
        "value": {
            "action": "plan",
            "plan": {
                "responsible_person": "李明亮",
                "measures": "重新压接 PE 线并做接地电阻测试，电工每日巡检一次。",
                "deadline": "2026-12-10",
            },
            "note": "企业已安排电工整改",
        },
    },
    "plan_major": {
        "summary": "plan: a major hazard's plan, 五落实 complete with interim measures",
        "description": "A major hazard needs every item (422 `plan_incomplete` names those "
        "missing); the plan's deadline may not lie after the hazard's.",
        "value": {
            "action": "plan",
            "plan": {
                "responsible_person": "王伟（总经理）",
                "measures": "停用抛光工段干式除尘器，加装泄爆片及隔爆阀，改造后委托第三方检测。",
                "funds_yuan": 86000.0,
                "deadline": "2027-01-31",
                "contingency_plan": "粉尘爆炸专项应急预案（2026年修订版）",
                "interim_measures": "抛光工段停产，设置警戒区，每班清扫积尘并记录。",
                "equipment_out_of_service": True,
            },
        },
    },
    "fix_on_spot": {
        "summary": "fix_on_spot: fixed at once by the enterprise (立查立改)",
        "description": "Closes a general hazard the enterprise found itself; an after-photo is "
        "required (422 `evidence_required`).",
        "value": {
            "action": "fix_on_spot",
            "attachment_ids": [ATTACHMENT_IDS[1]],
            "note": "杂物已当场清理，通道恢复畅通",
        },
    },
    "complete": {
        "summary": "complete: rectification done, evidence attached (整改完成)",
        "value": {
            "action": "complete",
            "attachment_ids": [ATTACHMENT_IDS[1], ATTACHMENT_IDS[2]],
            "note": "PE 线已重新压接，接地电阻实测 2.1 Ω",
        },
    },
    "accept": {
        "summary": "accept: the rectification passes acceptance (验收销号)",
        "value": {
            "action": "accept",
            "attachment_ids": [ATTACHMENT_IDS[2]],
            "note": "现场复查合格，同意销号",
        },
    },
    "reject": {
        "summary": "reject: the rectification fails acceptance (验收不通过)",
        "value": {
            "action": "reject",
            "reason": "护栏高度仍不足 1.2 米，请按标准重新安装",
        },
    },
    "void": {
        "summary": "void: registered in error (作废)",
        "value": {
            "action": "void",
            "reason": "经复核系重复登记，与 2026 年第 0153 号隐患为同一问题",
        },
    },
    "extend": {
        "summary": "extend: a later deadline, with the reason (延期)",
        "description": "Enterprise users extend general hazards by at most 30 days, once; "
        "government in scope extends as it decides.",
        "value": {
            "action": "extend",
            "deadline": "2027-03-31",
            "reason": "泄爆装置为定制设备，厂家供货周期约 60 天",
        },
    },
    "reclassify": {
        "summary": "reclassify: general becomes major, with the judgment (重新定级)",
        "value": {
            "action": "reclassify",
            "level": "major",
            "judgment": {
                "standard": "fire",
                "clause": "5.5",
                "text": "人员密集场所安全出口数量不足",
            },
            "reason": "复查发现二层营业区仅有一个安全出口",
        },
    },
    "supervise": {
        "summary": "supervise: list a major hazard for supervision (挂牌督办)",
        "description": "`supervisor_user_id` defaults to the caller; `disclosed` marks it for "
        "public disclosure (GET /api/v1/public/major-hazards), with `public_description` as the "
        "text shown there (the title otherwise).",
        "value": {
            "action": "supervise",
            "supervisor_user_id": SUPERVISOR_ID,
            "disclosed": True,
            "public_description": "粉尘涉爆车间除尘系统未采取控爆措施，已停用整改",
            "note": "列入街道挂牌督办，每周现场跟踪一次",
        },
    },
    "unsupervise": {
        "summary": "unsupervise: take it off the list (摘牌)",
        "value": {"action": "unsupervise", "note": "重大隐患已整改验收，予以摘牌"},
    },
    "escalate": {
        "summary": "escalate: the next rung for an overdue hazard (问责升级)",
        "description": "One rung at a time: notice_letter, circulated, summoned, exposed; the "
        "note is required.",
        "value": {"action": "escalate", "note": "逾期未整改，向企业发出督办通知书"},
    },
}

# ---- the transitions table, for the operation's description -----------------------------------

# Who may act, by the rule function of app/services/hazards/workflow.py; a rule without a text
# here fails tests/test_openapi_docs.py.
WHO = {
    "_worker": "the enterprise, or government in scope",
    "_self_fixer": "the enterprise's own users",
    "_acceptor": "government in scope; the 企业负责人 for a general hazard it found itself",
    "_extender": "the enterprise (general hazards) or government in scope",
    "_government": "government in scope",
    "_county_or_town": "county and town government in scope",
}
GUARDS = {
    "always": "",
    "_fixable_on_spot": "a general hazard the enterprise found itself",
    "_supervisable": "major, not yet listed",
    "_supervised": "under listed supervision",
    "_escalatable": "overdue, below the last rung",
    "_reclassifiable": "not under listed supervision",
    "_extendable": "an enterprise's own extensions left",
}


def action_models(union: Any) -> dict[str, type[BaseModel]]:
    """The body model of each action of a transitions union (``Annotated[A | B …, discriminator]``)."""
    members = [
        get_args(m)[0] if get_origin(m) is Annotated else m for m in get_args(get_args(union)[0])
    ]
    return {get_args(m.model_fields["action"].annotation)[0]: m for m in members}


def _fields(model: type[BaseModel]) -> str:
    names = [
        f"`{name}`" + ("" if info.is_required() else "?")
        for name, info in model.model_fields.items()
        if name != "action" and (name != "note" or info.is_required())
    ]
    return ", ".join(names) or "—"


def transitions_table(
    machine: Machine[Any],
    states: tuple[str, ...],
    union: Any,
    who: dict[str, str],
    guards: dict[str, str],
) -> str:
    """A lifecycle's table as markdown for its transitions operation, from the table itself:
    ``who`` and ``guards`` describe the rule functions by name."""
    models = action_models(union)
    rows = [
        "| action | from | to | who | only when | fields (`?` optional) |",
        "|---|---|---|---|---|---|",
    ]
    for action, t in machine.items():
        from_states = ", ".join(s for s in states if s in t.from_states)
        rows.append(
            f"| `{action}` | {from_states} | {t.to_state or '(unchanged)'} "
            f"| {who.get(t.who.__name__, 'see `allowed_actions`')} "
            f"| {guards.get(t.guard.__name__) or '—'} | {_fields(models[action])} |"
        )
    return "\n".join(rows)


def transitions_description() -> str:
    return transitions_table(MACHINE, get_args(HazardStatus), Transition, WHO, GUARDS)


TRANSITION_DESCRIPTION = f"""Takes one action of the hazard lifecycle (隐患闭环：登记 → 整改 → 验收销号,
with extension, reclassification, listed supervision 挂牌督办 and escalation 问责升级). The body
is `{{"action": "...", ...}}`, one schema per action, told apart by `action`; every action takes
an optional `note`. `allowed_actions` on the hazard lists exactly the actions this caller may
take now, decided by the same table as below. Answers the updated hazard with its new `ETag`;
send `If-Match` with the `ETag` you read, so nobody's change is overwritten. Every action writes
an event (`GET /api/v1/hazards/{{hazard_id}}/events`). Evidence (`attachment_ids`) is the
caller's own unbound uploads or files already bound to this hazard in the action's phase.

{transitions_description()}

Who: roles with `hazards:transition`, as the table says; read-only roles and machine clients
without it get 403. Errors: 404 `not_found` (missing or outside the caller's scope), 403
`action_forbidden` (in scope, not yours to take), 409 `invalid_transition` (not possible in the
current status, or a condition of the table unmet), 412 `precondition_failed` (stale
`If-Match`), 422 `validation_error` (an unknown action lists the valid ones),
`plan_incomplete`, `evidence_required`, `extension_too_long`, `judgment_required`,
`invalid_attachment`."""


# ---- accountability (问责) --------------------------------------------------------------------

ACCOUNTABILITY_CREATE: dict[str, Example] = {
    "town_letter": {
        "summary": "A notice letter to a town (向乡镇/街道函告)",
        "description": "County staff write the first rung of a town's ladder this year, with the "
        "letter uploaded first (`POST /api/v1/attachments`). The figures of `basis` are the "
        "server's, taken now; the decider adds a note.",
        "value": {
            "target": {"org_unit_id": TOWN_ID},
            "rung": "notice_letter",
            "reason": "辖区逾期未整改隐患较多，逾期率超过 20%，请限期督促整改并书面报告。",
            "document_number": "埇安办函〔2026〕12号",
            "basis": {"note": "11 月调度会通报数据"},
            "attachment_ids": [ATTACHMENT_IDS[0]],
        },
    },
    "enterprise_letter": {
        "summary": "A notice letter to an enterprise (对企业函告)",
        "description": "A town (or the county) holds an enterprise in its scope to account; "
        "`hazard_ids` may cite that enterprise's hazards, which are not changed.",
        "value": {
            "target": {"enterprise_id": ENTERPRISE_ID},
            "rung": "notice_letter",
            "reason": "隐患逾期未整改，经督促仍未落实整改措施。",
        },
    },
}


# ---- inspections (检查/执法) ------------------------------------------------------------------

INSPECTION_WHO = {
    "_inspector": "the listed inspectors (a self-inspection: the enterprise's own users)",
    "_recorder": "the listed inspectors and the assigned experts",
    "_signer": "each listed inspector, for themself",
    "_amender": "the signers, the conducting unit's manager, county managers, admins",
    "_inspector_or_head": "the listed inspectors, the conducting unit's manager, county "
    "managers, admins",
}
INSPECTION_GUARDS = {
    "always": "",
    "enough_certified": "enforcement kinds: two listed inspectors hold an enforcement_cert_no",
    "_not_signed_yet": "the caller has not signed yet",
}


def inspection_transitions_description() -> str:
    from app.schemas.inspections import InspectionStatus
    from app.schemas.inspections import Transition as InspectionTransition
    from app.services.inspections.workflow import MACHINE as INSPECTION_MACHINE

    table = transitions_table(
        INSPECTION_MACHINE,
        get_args(InspectionStatus),
        InspectionTransition,
        INSPECTION_WHO,
        INSPECTION_GUARDS,
    )
    return f"""Takes one action of the inspection lifecycle (计划 → 检查 → 完成 → 签名, or 取消).
The body is `{{"action": "...", ...}}`, one schema per action, told apart by `action`; every
action takes an optional `note`. `allowed_actions` on the inspection lists exactly the actions
this caller may take now, decided by the same table as below. Answers the updated inspection
with its new `ETag`; send `If-Match` with the `ETag` you read. Every action writes an event
(`GET /api/v1/inspections/{{inspection_id}}/events`).

{table}

- `record_results` replaces the result of each item it names; with a checklist only its items.
  A `follow_up` also reports `rectification_checks` on the findings of the inspection it follows.
- `add_finding` registers a hazard of the hazards resource (`source` `inspection`, or
  `self_inspection` for an enterprise's own inspection) linked both ways (`hazard.inspection_id`,
  the inspection's `findings`); an item marked `major_if_failed` proposes `level` major with the
  item's judgment clause. With `existing_hazard_id` it links an open hazard the enterprise found
  itself and is rectifying on schedule instead (an exempt finding: 依法不予处罚).
- `complete` needs a result for every checklist item and sets the `outcome`; without one,
  `no_issue` when nothing was found (an enforcement inspection with findings must decide).
- `sign`: the record becomes `signed` when every listed inspector has signed; then it never
  changes: `amend` records a correction (reason, author, time, the changed fields) and
  `signed_record` keeps what was signed. A `blacklist` decision lists the enterprise when the
  record is signed (or amended so).

Who: roles with `inspections:transition`, as the table says. Errors: 404 `not_found` (missing or
outside the caller's scope), 403 `action_forbidden`, 409 `invalid_transition` (not now, or a
condition unmet), `results_incomplete`, `hazard_already_linked`, 412 `precondition_failed`,
422 `validation_error` (an unknown action lists the valid ones), `outcome_required`,
`invalid_outcome`, `penalty_not_allowed`, `exempt_findings_only`, `hazard_not_exempt`,
`unknown_hazard`, `unknown_checklist_item`, `invalid_follow_up`, `judgment_required`,
`invalid_attachment`."""


# ---- issue 12, checklists and major hazard installations (i12-check) ------------------------
CHECKLIST_CREATE: dict[str, Example] = {
    "county_dust": {
        "summary": "A county's own dust-explosion checklist (本区粉尘涉爆企业检查表)",
        "description": "A manager of the county office or of a bureau writes version 1. An item "
        "marked `major_if_failed` names a clause of the judgment standard (the citation "
        "第十一条第（三）项 is stored as `11.3`); the others cite their basis only.",
        "value": {
            "code": "yq-dust-2026",
            "name": "埇桥区粉尘涉爆企业专项检查表（2026）",
            "name_en": "Yongqiao dust-explosion campaign checklist (2026)",
            "sector": "industry_trade",
            "items": [
                {
                    "code": "1",
                    "text": "干式除尘系统设置泄爆、隔爆、惰化或抑爆等控爆措施",
                    "basis": "工贸企业重大事故隐患判定标准 第十一条第（三）项",
                    "sector": "industry_trade",
                    "major_if_failed": True,
                    "judgment_standard": "industry_trade",
                    "judgment_clause": "第十一条第（三）项",
                },
                {
                    "code": "2",
                    "text": "粉尘清扫记录完整，清扫周期与责任人明确",
                    "basis": "工贸企业粉尘防爆安全规定（应急管理部令第6号）",
                },
            ],
        },
    },
}
CHECKLIST_UPDATE: dict[str, Example] = {
    "rename": {
        "summary": "Rename a checklist",
        "description": "With `If-Match`. A version used by a signed inspection is not changed: "
        "the answer is then 201 with the next version.",
        "value": {"name": "埇桥区粉尘涉爆企业专项检查表（2026 修订）"},
    },
}
INSTALLATION_CREATE: dict[str, Example] = {
    "chlorine": {
        "summary": "A grade-2 major hazard installation (二级重大危险源)",
        "description": "Government staff in scope record an enterprise's 重大危险源 (GB 18218).",
        "value": {"name": "液氯储罐区", "grade": 2, "substances": ["液氯"]},
    },
}
INSTALLATION_UPDATE: dict[str, Example] = {
    "regrade": {
        "summary": "Grade revised after re-assessment",
        "description": "With `If-Match`; `substances` replaces the list as a whole.",
        "value": {"grade": 1, "substances": ["液氯", "液氨"]},
    },
}
BLACKLIST_REMOVE: dict[str, Example] = {
    "repaired": {
        "summary": "Credit repair after rectification (信用修复)",
        "description": "The county or the deciding unit takes the enterprise off the list.",
        "value": {"reason": "已完成整改并通过复查，按规定申请信用修复。"},
    },
}
