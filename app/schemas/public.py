"""What the public (no sign-in) sees of disclosed major hazards (向社会公布): a fixed, small set
of fields, never people, attachments or internal ids."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import ResponseModel

PublicHazardStatus = Literal["rectifying", "closed"]


class PublicTown(ResponseModel):
    region_code: str = Field(description="The town's 9-digit statistical division code")
    name: str | None = Field(
        description="The town's name (English under `Accept-Language: en` when it has one); "
        "null when no town of that code is registered"
    )


class PublicUnit(ResponseModel):
    name: str = Field(description="English under `Accept-Language: en` when it has one")


class PublicMajorHazard(ResponseModel):
    """A major hazard under listed supervision (挂牌督办) that its supervising unit disclosed."""

    number: str = Field(description="The hazard's number (per county and year), as cited")
    county_code: str = Field(description="The 6-digit county code: numbers are per county")
    enterprise_name: str
    town: PublicTown
    description: str = Field(
        description="The public description set when disclosing; without one a standard text (the "
        "internal title is never published)"
    )
    deadline: date = Field(description="The rectification deadline")
    supervising_unit: PublicUnit = Field(description="The unit that listed it (挂牌单位)")
    status: PublicHazardStatus = Field(
        description="rectifying (整改中: registered, rectifying or awaiting acceptance) or closed "
        "(已销号)"
    )
    status_label: str = Field(description="The status in Chinese, or English under en")
    listed_at: datetime = Field(description="When it was put under listed supervision")
    closed_at: datetime | None = Field(description="When it was closed (销号); null while open")


class PublicMajorHazardPage(BaseModel):
    items: list[PublicMajorHazard]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
