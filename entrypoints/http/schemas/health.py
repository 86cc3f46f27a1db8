"""The body of the health probes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from entrypoints.http.schemas.common import examples


class HealthOut(BaseModel):
    model_config = examples(
        {"status": "ok", "checks": {"database": "ok"}}, {"status": "ok", "checks": {}}
    )

    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(
        default_factory=dict, description="Each dependency checked, by name"
    )
