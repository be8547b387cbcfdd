from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.credit_code import is_valid_credit_code
from app.schemas.common import NON_BLANK, ExternalIds, NamedRef, RequestModel, ResponseModel
from app.schemas.org_units import SectorCode
from app.schemas.users import Phone

RiskColor = Literal["red", "orange", "yellow", "blue"]
Scale = Literal["large", "medium", "small", "micro"]
Grade = Literal["level_1", "level_2", "level_3", "none"]
EnterpriseStatus = Literal["operating", "suspended", "closed"]
RegionCode12 = Annotated[
    str, Field(pattern=r"^\d{12}$", description="12-digit statistical division code")
]
IndustryCode = Annotated[str, Field(pattern=r"^([A-T]|[A-T]?\d{2,4})$", description="GB/T 4754")]


class Contact(BaseModel):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=50)]
    phone: Phone | None = None

    model_config = {"extra": "forbid", "str_strip_whitespace": True}


class ContactOut(Contact):
    """A contact as sent: ``phone`` is always there (``null`` when unknown)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


CoordinateSystem = Literal["wgs84", "gcj02"]


class Location(BaseModel):
    """A point as given, with the system it was given in: GPS and 天地图 give WGS-84, 高德 and
    Tencent maps GCJ-02 (中国国测局坐标). Stored as given; the maps convert on request."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    coordinate_system: CoordinateSystem = Field(
        default="wgs84", description="wgs84 (GPS, 天地图) or gcj02 (高德, 腾讯); default wgs84"
    )

    model_config = {"extra": "forbid"}


class LocationOut(ResponseModel):
    lat: float
    lng: float
    coordinate_system: CoordinateSystem = Field(description="The system it was given in")


class EnterpriseFields(RequestModel):
    address: Annotated[str, Field(max_length=300)] | None = None
    location: Location | None = None
    industry_code: IndustryCode | None = None
    scale: Scale | None = None
    risk_color: RiskColor | None = None
    standardization_grade: Grade | None = None
    principal: Contact | None = None
    actual_controller: Contact | None = None


def _check_credit_code(value: str) -> str:
    value = value.upper()
    if not is_valid_credit_code(value):
        raise ValueError(
            "not a valid unified social credit code (GB 32100-2015)|统一社会信用代码无效（GB 32100-2015 校验不通过）"
        )
    return value


class EnterpriseCreate(EnterpriseFields):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]
    credit_code: Annotated[str, Field(min_length=18, max_length=18)]
    region_code: RegionCode12
    sector: SectorCode  # type: ignore[valid-type]
    enforcement_department_id: str
    status: EnterpriseStatus = "operating"

    _cc = field_validator("credit_code")(_check_credit_code)


class EnterpriseUpdate(EnterpriseFields):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)] = (
        None  # may be omitted, never null
    )
    credit_code: Annotated[str, Field(min_length=18, max_length=18)] = (
        None  # may be omitted, never null
    )
    region_code: RegionCode12 = None  # may be omitted, never null
    sector: SectorCode = None  # type: ignore[valid-type]  # may be omitted, never null
    enforcement_department_id: str = None  # may be omitted, never null
    status: EnterpriseStatus = None  # may be omitted, never null

    @field_validator("credit_code")
    @classmethod
    def _cc(cls, value: str | None) -> str | None:
        return None if value is None else _check_credit_code(value)


class BlacklistEntryOut(ResponseModel):
    """An entry of the joint-punishment blacklist (联合惩戒黑名单). `removed_at` null: current;
    set by credit repair (信用修复) with its reason."""

    id: str
    listed_at: datetime
    reason: str
    decided_by_inspection_id: str | None = Field(description="The inspection whose decision it is")
    decided_by_unit_id: str | None = Field(description="The unit that decided it")
    removed_at: datetime | None
    removed_reason: str | None
    removed_by: str | None = Field(description="Who removed it (`user:<id>`)")


InstallationGrade = Annotated[int, Field(ge=1, le=4, description="1–4: 一级 … 四级重大危险源")]


class InstallationBrief(ResponseModel):
    """A major hazard installation (重大危险源, GB 18218) as the enterprise shows it."""

    id: str
    name: str
    grade: InstallationGrade
    substances: list[str] = Field(description="The hazardous substances held (e.g. 液氯, 液氨)")


# Fields an enterprise's own users may change on their record.
CONTACT_FIELDS = frozenset({"principal", "actual_controller"})


class EnterpriseOut(ResponseModel):
    id: str
    name: str
    credit_code: str
    region_code: str
    address: str | None
    location: LocationOut | None
    sector: SectorCode  # type: ignore[valid-type]
    industry_code: str | None
    enforcement_department_id: str
    enforcement_department: NamedRef = Field(
        description="The bureau designated for daily enforcement (日常执法监管部门)"
    )
    scale: Scale | None
    risk_color: RiskColor | None
    standardization_grade: Grade | None
    principal: ContactOut | None
    actual_controller: ContactOut | None
    status: EnterpriseStatus
    blacklisted: bool = Field(description="On the blacklist now (a current entry in `blacklist`)")
    blacklist: list[BlacklistEntryOut] = Field(
        description="失信联合惩戒黑名单: current and past entries, newest first"
    )
    external_ids: ExternalIds
    created_at: datetime
    updated_at: datetime


class EnterpriseDetail(EnterpriseOut):
    """The enterprise's record as its detail shows it: the list's fields and its major hazard
    installations (重大危险源)."""

    major_hazard_installations: list[InstallationBrief]


class EnterprisePage(BaseModel):
    items: list[EnterpriseOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
