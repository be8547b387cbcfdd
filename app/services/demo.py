"""The demo county, 安徽省宿州市埇桥区 (341302): its office, towns and streets, sectoral bureaus,
about 200 enterprises, one user per role and a provincial-exchange machine client.

Deterministic (a seeded generator; credit codes derived from the row index), so every run builds
the same rows, and idempotent: rows already present are skipped by their natural keys (region
code, bureau name, credit code, username, client id). The town codes are illustrative, not the
official 统计用区划代码 list. Later loaders (hazards, inspections) take the `DemoWorld` and run
at the end of `load_demo`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password, verify_password
from app.auth.permissions import CLIENT_GRANTABLE, Permission, Role
from app.core.config import Settings, get_settings
from app.core.credit_code import CHARSET, make_credit_code
from app.core.ids import new_id
from app.core.unit_names import DEMO_UNIT_NAMES_EN
from app.models import (
    ApiClient,
    Draw,
    Enterprise,
    Hazard,
    Inspection,
    MajorHazardInstallation,
    OrgUnit,
    PublicReport,
    TaskList,
    User,
)
from app.services.catalog_data import SECTORS
from app.services.demo_draws import load_demo_draws
from app.services.demo_hazards import load_demo_hazards
from app.services.demo_inspections import load_demo_inspections
from app.services.demo_risks import load_demo_risks
from app.services.demo_tasks import load_demo_tasks
from app.services.public_reports.demo import load_demo_reports

DEMO_PASSWORD = "Anjian@2026"
DEMO_CLIENT_ID = "demo_province"
DEMO_CLIENT_SECRET = "demo-province-exchange-2026"
COUNTY_CODE, COUNTY_NAME, COUNTY_HOME = "341302", "埇桥区", "安徽省宿州市"
SEED = 341302

# (name, 9-digit code, centre lat, centre lng): 街道 in the city, 镇 around it.
TOWNS = (
    ("埇桥街道", "341302001", 33.640, 116.975),
    ("沱河街道", "341302002", 33.628, 116.995),
    ("道东街道", "341302003", 33.650, 117.002),
    ("三里街道", "341302004", 33.622, 116.955),
    ("北关街道", "341302005", 33.662, 116.970),
    ("汴河街道", "341302006", 33.612, 116.985),
    ("符离镇", "341302100", 33.780, 116.955),
    ("大店镇", "341302101", 33.600, 117.150),
    ("蒿沟镇", "341302102", 33.520, 117.100),
    ("栏杆镇", "341302103", 33.740, 117.140),
    ("夹沟镇", "341302104", 33.870, 117.020),
    ("褚兰镇", "341302105", 33.720, 117.260),
)
BUREAUS = (
    (
        "区应急管理局",
        ("hazardous_chemicals", "non_coal_mining", "fireworks", "metallurgy", "industry_trade"),
    ),
    ("区住房和城乡建设局", ("construction", "urban_gas", "self_built_housing")),
    ("区交通运输局", ("road_transport", "water_transport")),
    ("区消防救援大队", ("fire_key_units",)),
    ("区市场监督管理局", ("special_equipment", "commerce")),
    ("区教育局", ("campus",)),
    ("区卫生健康委员会", ("medical",)),
    ("区文化旅游体育局", ("culture_tourism",)),
    ("区农业农村局", ("agriculture",)),
    ("区水利局", ("water_conservancy",)),
)
FALLBACK_BUREAU = "区应急管理局"
# Sectors kept out of the city streets: in the named towns, or in any 镇 when none are named.
RURAL_SECTORS = {
    "non_coal_mining": ("符离镇", "夹沟镇", "褚兰镇"),
    "fireworks": (),
    "metallurgy": (),
}

# sector: (how many, ((name pattern, GB/T 4754 code, credit-code kind), ...)); in a pattern {z} is
# a trade name (字号), {t} the town's short name, {T} its full name. Kinds: 91 company,
# 92 individual business, 93 farmers' cooperative, 12 public institution, 52 private non-profit.
MIX: dict[str, tuple[int, tuple[tuple[str, str | None, str], ...]]] = {
    "industry_trade": (42, (("宿州市{z}机械制造有限公司", "3499", "91"), ("宿州{z}面粉有限公司", "1311", "91"),
        ("安徽{z}食品有限公司", "1499", "91"), ("宿州市{z}木业有限公司", "2021", "91"),
        ("宿州市{z}纺织有限公司", "1711", "91"), ("宿州市{z}鞋业有限公司", "1952", "91"),
        ("宿州市{z}包装材料有限公司", "2231", "91"), ("安徽{z}家具有限公司", "2110", "91"),
        ("宿州市{z}饲料有限公司", "1320", "91"), ("宿州市{z}农机制造有限公司", "3572", "91"))),
    "hazardous_chemicals": (18, (("安徽{z}化工有限公司", "2614", "91"),
        ("宿州市{z}新材料科技有限公司", "2651", "91"), ("宿州市埇桥区{t}{z}加油站", "5265", "91"),
        ("宿州市{z}石化贸易有限公司", "5162", "91"))),
    "non_coal_mining": (5, (("宿州市{z}矿业有限公司", "1011", "91"), ("宿州市埇桥区{t}{z}石料厂", "1019", "91"))),
    "fireworks": (6, (("宿州市{z}烟花爆竹批发有限公司", "51", "91"), ("埇桥区{t}{z}烟花爆竹零售店", "52", "92"))),
    "metallurgy": (5, (("宿州市{z}铸造有限公司", "3391", "91"), ("安徽{z}铝业有限公司", "3216", "91"))),
    "construction": (20, (("宿州市{z}建筑安装工程有限公司", "4790", "91"), ("安徽{z}建设工程有限公司", "4710", "91"))),
    "urban_gas": (8, (("宿州市{z}燃气有限公司", "4511", "91"), ("埇桥区{t}{z}液化气供应站", "4511", "91"))),
    "road_transport": (15, (("宿州市{z}运输有限公司", "5431", "91"), ("宿州{z}物流有限公司", "5431", "91"),
        ("宿州市{z}危险货物运输有限公司", "5435", "91"), ("宿州市{z}客运有限公司", "5421", "91"))),
    "water_transport": (3, (("宿州市{z}航运有限公司", "5523", "91"),)),
    "fire_key_units": (20, (("宿州{z}大酒店有限公司", "6110", "91"), ("宿州市{z}商贸城有限公司", "5211", "91"),
        ("埇桥区{z}KTV娱乐会所", "9051", "92"), ("宿州市{z}养老服务中心", "8514", "52"))),
    "special_equipment": (8, (("宿州市{z}电梯工程有限公司", "3435", "91"),
        ("宿州市{z}起重设备有限公司", "3432", "91"), ("宿州市{z}锅炉制造有限公司", "3411", "91"))),
    "commerce": (12, (("宿州市{z}超市有限公司", "5212", "91"), ("宿州{z}购物中心有限公司", "5211", "91"),
        ("埇桥区{t}{z}五金店", None, "92"))),
    "self_built_housing": (10, (("埇桥区{t}{z}宾馆", "61", "92"), ("埇桥区{t}{z}饭店", "6210", "92"),
        ("埇桥区{t}{z}出租公寓", None, "92"))),
    "campus": (10, (("宿州市埇桥区{T}中心小学", "8321", "12"), ("宿州市埇桥区{t}初级中学", "8331", "12"),
        ("宿州市埇桥区{z}幼儿园", "8310", "52"))),
    "medical": (8, (("宿州市埇桥区{T}卫生院", "84", "12"), ("宿州{z}医院", "8411", "52"), ("埇桥区{z}诊所", "8425", "92"))),
    "culture_tourism": (5, (("宿州市{z}旅游开发有限公司", "7869", "91"), ("宿州{z}影城有限公司", "8760", "91"))),
    "agriculture": (3, (("埇桥区{t}{z}农机专业合作社", "05", "93"),)),
    "water_conservancy": (2, (("宿州市{z}水利工程有限公司", "48", "91"),)),
}  # fmt: skip
ZIHAO = (
    "华宇 恒通 鑫源 金鼎 皖北 淮海 汴水 隋唐 宏达 盛源 永安 瑞丰 嘉禾 天成 正阳 福瑞 德润 运通 新汇 东升 "
    "润泽 泰和 宝丰 万佳 广源 昌盛 兴旺 鸿运 博远 安泰 腾达 顺发 立信 海川 众诚 明辉 佳和 荣盛 金桥 "
    "中原 灵泉 龙腾 祥和 丰源 亿达 华盛 通达 恒信 锦程"
).split()
ROADS = (
    "淮海中路 汴河中路 银河一路 人民路 胜利路 拂晓大道 浍水路 西昌路 环城路 金江路 宿怀路".split()
)
VILLAGES = "王庄 李楼 张集 陈圩 刘湖 赵寨 周庙 马桥 孙园 杨庄 黄庄 徐楼 大营 后湖 前李 新集".split()
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈彭吕苏卢蒋蔡贾丁魏薛叶"
)
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 勇 艳 杰 娟 涛 明 超 刚 平 秀英 桂英 建国 志强 海涛 玉兰 红梅 建华 "
    "晓东 春生 振华 国庆 文军 德胜 永刚 秀兰 俊杰 丽娟 卫东 明亮 志刚 淑芬 小龙 新民 长江 凤英"
).split()
# (username, role, home: "county" | town code | bureau name | "enterprise", display name)
PEOPLE = (
    ("admin", Role.admin, "county", "王建国"),
    ("county_manager", Role.manager, "county", "李振华"),
    ("county_officer", Role.officer, "county", "张晓梅"),
    ("town_manager", Role.manager, "341302001", "刘德明"),
    ("town_officer", Role.officer, "341302001", "陈静"),
    ("town_inspector", Role.inspector, "341302001", "赵刚"),
    ("town_viewer", Role.viewer, "341302001", "孙丽"),
    ("town_inspector2", Role.inspector, "341302001", "钱伟"),
    ("bureau_manager", Role.manager, "区应急管理局", "周海涛"),
    ("bureau_officer", Role.officer, "区应急管理局", "吴磊"),
    ("bureau_inspector", Role.inspector, "区应急管理局", "冯军"),
    ("county_expert", Role.expert, "county", "褚明远"),
    ("enterprise_manager", Role.enterprise_manager, "enterprise", "郑志强"),
    ("enterprise_staff", Role.enterprise_staff, "enterprise", "何芳"),
)
# 执法证号 of the demo's enforcement staff (行政执法两人以上: each team has two or more).
CERTIFIED = {
    "county_manager": "皖宿执 0010001",
    "county_officer": "皖宿执 0010002",
    "town_officer": "皖宿执 0011001",
    "town_inspector": "皖宿执 0011002",
    "town_inspector2": "皖宿执 0011003",
    "bureau_manager": "皖宿执 0012001",
    "bureau_officer": "皖宿执 0012002",
    "bureau_inspector": "皖宿执 0012003",
}
# The provincial exchange reads everything in the county except the user directory.
# Every read a machine client may be granted (users and the job queue are not for it).
# The demo province client reads the whole county, follows its feed and may subscribe webhooks.
CLIENT_PERMISSIONS = sorted(
    [
        p.value
        for p in CLIENT_GRANTABLE
        if p.value.endswith(":read") and p is not Permission.users_read
    ]
    + [Permission.webhooks_manage.value]
)
HIGH_RISK = {s.code for s in SECTORS if s.high_risk}
# Not graded for 安全生产标准化 (it applies to production enterprises).
UNGRADED = set("campus medical self_built_housing fire_key_units commerce culture_tourism".split())


@dataclass
class DemoWorld:
    """Every demo row present after the loaders ran, old or new: what later loaders build on."""

    county: OrgUnit
    towns: dict[str, OrgUnit] = field(default_factory=dict)  # by region code
    bureaus: dict[str, OrgUnit] = field(default_factory=dict)  # by name
    enterprises: list[Enterprise] = field(
        default_factory=list
    )  # generation order; [0] has the demo enterprise users
    users: dict[str, User] = field(default_factory=dict)  # by username
    added: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoSummary:
    totals: dict[str, int]
    added: dict[str, int]
    accounts: list[tuple[str, str, str]]  # (username, role, home)

    def describe(self) -> str:
        totals = ", ".join(f"{n} {what}" for what, n in self.totals.items())
        added = ", ".join(f"{n} {what}" for what, n in self.added.items() if n)
        lines = [
            f"demo county {COUNTY_HOME}{COUNTY_NAME} ({COUNTY_CODE}): {totals}",
            f"added by this run: {added}" if added else "demo county already loaded: nothing added",
        ]
        if self.totals.get("machine clients"):
            lines.append(
                f"machine client (grant_type=client_credentials): client_id={DEMO_CLIENT_ID} "
                f"client_secret={DEMO_CLIENT_SECRET}"
            )
        return "\n".join(lines)


async def load_demo(
    session: AsyncSession, *, only_if_empty: bool = False, settings: Settings | None = None
) -> DemoSummary | None:
    """Loads (or completes) the demo county; None when `only_if_empty` and a county exists."""
    if only_if_empty and await _count(session, OrgUnit.id, OrgUnit.kind == "county"):
        return None
    world = await _load_units(session)
    await _load_enterprises(session, world)
    await _load_people(session, world)
    world.added["hazards"] = await load_demo_hazards(session, world.enterprises, world.users)
    world.added["major hazard installations"] = await _load_installations(session, world)
    world.added["risk points"] = await load_demo_risks(session, world.enterprises)
    units = {
        "county": world.county,
        "town": world.towns.get(TOWNS[0][1]),
        "bureau": world.bureaus.get(FALLBACK_BUREAU),
    }
    world.added["inspections"] = await load_demo_inspections(
        session, world.enterprises, world.users, units
    )
    world.added["double-random draws"] = await load_demo_draws(
        session, settings or get_settings(), world.users, units["bureau"]
    )
    world.added["task lists"] = await load_demo_tasks(
        session,
        settings or get_settings(),
        world.users,
        world.county,
        world.towns,
        world.bureaus,
        world.enterprises,
    )
    world.added["public reports"] = await load_demo_reports(
        session,
        settings or get_settings(),
        world.users,
        world.county,
        world.towns,
        world.bureaus,
        world.enterprises,
    )
    return await _summary(session, world.added)


async def existing_demo_summary(session: AsyncSession) -> DemoSummary | None:
    """What is there already (for `make run` on a database loaded before); None without it."""
    if not await _count(session, OrgUnit.id, OrgUnit.region_code == COUNTY_CODE):
        return None
    return await _summary(session, {})


async def _count(session: AsyncSession, column: Any, *where: Any) -> int:
    return int((await session.execute(select(func.count(column)).where(*where))).scalar_one())


async def _load_units(session: AsyncSession) -> DemoWorld:
    stmt = select(OrgUnit).where(OrgUnit.region_code == COUNTY_CODE)
    county = (await session.execute(stmt)).scalar_one_or_none()
    created = county is None
    if county is None:
        county = OrgUnit(
            id=new_id(),
            kind="county",
            name=COUNTY_NAME,
            name_en=DEMO_UNIT_NAMES_EN.get(COUNTY_NAME),
            region_code=COUNTY_CODE,
            county_code=COUNTY_CODE,
            sectors=[],
        )
        session.add(county)
        await session.flush()
    world = DemoWorld(county=county, added={"county offices": int(created)})
    stmt = select(OrgUnit).where(OrgUnit.county_code == COUNTY_CODE)
    for unit in (await session.execute(stmt)).scalars():
        if unit.kind == "town" and unit.region_code:
            world.towns[unit.region_code] = unit
        elif unit.kind == "bureau":
            world.bureaus[unit.name] = unit
    common = {"county_code": COUNTY_CODE, "parent_id": county.id}
    towns = [
        OrgUnit(
            id=new_id(),
            kind="town",
            name=name,
            name_en=DEMO_UNIT_NAMES_EN.get(name),
            region_code=code,
            sectors=[],
            **common,
        )
        for name, code, _, _ in TOWNS
        if code not in world.towns
    ]
    bureaus = [
        OrgUnit(
            id=new_id(),
            kind="bureau",
            name=name,
            name_en=DEMO_UNIT_NAMES_EN.get(name),
            sectors=list(sectors),
            **common,
        )
        for name, sectors in BUREAUS
        if name not in world.bureaus
    ]
    session.add_all(towns + bureaus)
    await session.flush()
    world.towns.update({u.region_code or "": u for u in towns})
    world.bureaus.update({u.name: u for u in bureaus})
    world.added.update({"towns/streets": len(towns), "bureaus": len(bureaus)})
    return world


def _credit_code(index: int, kind: str) -> str:
    digest = hashlib.sha256(f"anjian-demo-{index}".encode()).digest()
    if kind.startswith("9"):  # business registrations: "MA" + 7 characters
        body = "MA" + "".join(CHARSET[b % 31] for b in digest[:7])
    else:  # institutions keep an organisation-code-like body
        body = "".join(str(b % 10) for b in digest[:8]) + "0123456789X"[digest[8] % 11]
    return make_credit_code(kind + COUNTY_CODE + body)


def _person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return (
        name,
        f"1{rng.choice(('38', '39', '51', '52', '55', '80', '87'))}{rng.randrange(10**8):08d}",
    )


def demo_enterprise_specs() -> list[dict[str, Any]]:
    """The same 200 enterprises on every run; the first is the demo enterprise users' own."""
    rng = random.Random(SEED)
    sectors = [code for code, (n, _) in MIX.items() for _ in range(n)]
    rng.shuffle(sectors)
    sectors.insert(0, sectors.pop(sectors.index("industry_trade")))
    names: set[str] = set()
    specs: list[dict[str, Any]] = []
    for i, sector in enumerate(sectors):
        rural = RURAL_SECTORS.get(sector)
        towns = [t for t in TOWNS if t[0].endswith("镇") and (not rural or t[0] in rural)]
        town = TOWNS[0] if i == 0 else rng.choice(towns if rural is not None else TOWNS)
        for _ in range(50):
            pattern, industry, kind = MIX[sector][1][0] if i == 0 else rng.choice(MIX[sector][1])
            z = ZIHAO[0] if i == 0 else rng.choice(ZIHAO)
            name = pattern.format(z=z, T=town[0], t=town[0].removesuffix("镇").removesuffix("街道"))
            if name not in names:
                break
        names.add(name)
        if town[0].endswith("街道"):
            region = f"{town[1]}{rng.randint(1, 8):03d}"
            address = f"{COUNTY_HOME}{COUNTY_NAME}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
        else:
            k = rng.randrange(len(VILLAGES))
            region = f"{town[1]}{200 + k:03d}"
            address = f"{COUNTY_HOME}{COUNTY_NAME}{town[0]}{VILLAGES[k]}村"
        principal = _person(rng)
        controller = principal if rng.random() < 0.6 else _person(rng)
        risk_weights = (10, 30, 40, 20) if sector in HIGH_RISK else (2, 10, 38, 50)
        specs.append(
            {
                "name": name,
                "credit_code": _credit_code(i, kind),
                "region_code": region,
                "address": address,
                "lat": round(town[2] + rng.uniform(-0.025, 0.025), 6),
                "lng": round(town[3] + rng.uniform(-0.025, 0.025), 6),
                "coordinate_system": "wgs84",
                "sector": sector,
                "industry_code": industry,
                "scale": rng.choices(("large", "medium", "small", "micro"), (2, 10, 50, 38))[0],
                "risk_color": rng.choices(("red", "orange", "yellow", "blue"), risk_weights)[0],
                "standardization_grade": None
                if sector in UNGRADED
                else rng.choices(("level_1", "level_2", "level_3", "none"), (1, 10, 45, 44))[0],
                "principal_name": principal[0],
                "principal_phone": principal[1],
                "actual_controller_name": controller[0],
                "actual_controller_phone": controller[1],
                "status": "operating"
                if i == 0
                else rng.choices(("operating", "suspended", "closed"), (92, 6, 2))[0],
            }
        )
    return specs


async def _load_enterprises(session: AsyncSession, world: DemoWorld) -> None:
    specs = demo_enterprise_specs()
    codes = [s["credit_code"] for s in specs]
    stmt = select(Enterprise).where(Enterprise.credit_code.in_(codes))
    present = {e.credit_code: e for e in (await session.execute(stmt)).scalars()}
    by_sector = {s: b for b in world.bureaus.values() for s in b.sectors or []}
    fallback = world.bureaus[FALLBACK_BUREAU]
    new = [
        Enterprise(
            id=new_id(), enforcement_department_id=by_sector.get(s["sector"], fallback).id, **s
        )
        for s in specs
        if s["credit_code"] not in present
    ]
    session.add_all(new)
    await session.flush()
    present.update({e.credit_code: e for e in new})
    world.enterprises = [present[c] for c in codes]
    world.added["enterprises"] = len(new)


async def _load_people(session: AsyncSession, world: DemoWorld) -> None:
    usernames = [p[0] for p in PEOPLE]
    stmt = select(User).where(User.username.in_(usernames))
    world.users = {u.username: u for u in (await session.execute(stmt)).scalars()}
    missing = any(p[0] not in world.users for p in PEOPLE)
    password_hash = hash_password(DEMO_PASSWORD) if missing else ""  # once: argon2 is slow
    homes = {"county": world.county, **world.towns, **world.bureaus}
    new = [
        User(
            id=new_id(),
            username=username,
            password_hash=password_hash,
            display_name=display_name,
            phone=f"1385579{order:04d}",
            role=role.value,
            org_unit_id=homes[home].id if home in homes else None,
            enterprise_id=world.enterprises[0].id if home == "enterprise" else None,
            enforcement_cert_no=CERTIFIED.get(username),
            is_active=True,
        )
        for order, (username, role, home, display_name) in enumerate(PEOPLE)
        if username not in world.users
    ]
    stmt = select(ApiClient.id).where(ApiClient.client_id == DEMO_CLIENT_ID)
    client_missing = (await session.execute(stmt)).first() is None
    if client_missing:
        session.add(
            ApiClient(
                id=new_id(),
                client_id=DEMO_CLIENT_ID,
                secret_hash=hash_password(DEMO_CLIENT_SECRET),
                name="省级数据交换（演示）",
                org_unit_id=world.county.id,
                permissions=CLIENT_PERMISSIONS,
                is_active=True,
            )
        )
    session.add_all(new)
    await session.flush()
    world.users.update({u.username: u for u in new})
    world.added.update({"demo users": len(new), "machine clients": int(client_missing)})


# 重大危险源 of the chemical enterprises (GB 18218): name, grade 1–4 and substances.
INSTALLATIONS = (
    ("液氨储罐区", ("液氨",)),
    ("甲醇罐区", ("甲醇",)),
    ("液化石油气储罐区", ("液化石油气",)),
    ("氯气钢瓶库", ("氯",)),
)


async def _load_installations(session: AsyncSession, world: DemoWorld) -> int:
    """One installation for each chemical enterprise, added once."""
    ids = [e.id for e in world.enterprises if e.sector == "hazardous_chemicals"]
    if not ids or await _count(
        session, MajorHazardInstallation.id, MajorHazardInstallation.enterprise_id.in_(ids)
    ):
        return 0
    rng = random.Random(SEED + 18218)
    rows = [
        MajorHazardInstallation(
            id=new_id(),
            enterprise_id=ent_id,
            name=name,
            grade=rng.randint(1, 4),
            substances=list(substances),
        )
        for ent_id, (name, substances) in zip(
            ids, (rng.choice(INSTALLATIONS) for _ in ids), strict=True
        )
    ]
    session.add_all(rows)
    await session.flush()
    return len(rows)


async def _summary(session: AsyncSession, added: dict[str, int]) -> DemoSummary:
    in_county = OrgUnit.county_code == COUNTY_CODE
    in_county_region = Enterprise.region_code.like(COUNTY_CODE + "%")
    is_demo_client = ApiClient.client_id == DEMO_CLIENT_ID
    order = {p[0]: i for i, p in enumerate(PEOPLE)}
    users = (await session.execute(select(User).where(User.username.in_(order)))).scalars().all()
    # Only accounts that still open with the demo password (e.g. not an `anjian init` admin).
    good = {h for h in {u.password_hash for u in users} if verify_password(h, DEMO_PASSWORD)}
    units = {u.id: u for u in (await session.execute(select(OrgUnit).where(in_county))).scalars()}
    ent_ids = [u.enterprise_id for u in users if u.enterprise_id]
    stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ent_ids))
    ents = dict((await session.execute(stmt)).tuples().all())

    def home(u: User) -> str:
        if u.enterprise_id:
            return f"{ents.get(u.enterprise_id, '?')} (enterprise)"
        unit = units.get(u.org_unit_id or "")
        return (
            f"{unit.name} ({unit.kind} {unit.region_code or ''})".replace(" )", ")")
            if unit
            else "?"
        )

    accounts = [
        (u.username, u.role, home(u))
        for u in sorted(users, key=lambda u: order[u.username])
        if u.is_active and u.password_hash in good
    ]
    totals = {
        "towns/streets": await _count(session, OrgUnit.id, in_county, OrgUnit.kind == "town"),
        "bureaus": await _count(session, OrgUnit.id, in_county, OrgUnit.kind == "bureau"),
        "enterprises": await _count(session, Enterprise.id, in_county_region),
        "hazards": await _count(session, Hazard.id, Hazard.county_code == COUNTY_CODE),
        "double-random draws": await _count(session, Draw.id, Draw.county_code == COUNTY_CODE),
        "inspections": await _count(session, Inspection.id, Inspection.county_code == COUNTY_CODE),
        "task lists": await _count(session, TaskList.id, TaskList.county_code == COUNTY_CODE),
        "public reports": await _count(
            session, PublicReport.id, PublicReport.county_code == COUNTY_CODE
        ),
        "demo users": len(users),
        "machine clients": await _count(session, ApiClient.id, is_demo_client),
    }
    return DemoSummary(totals=totals, added=added, accounts=accounts)
