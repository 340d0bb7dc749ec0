"""Import settings (env prefix ``GRIDWALL_IMPORT_``): how a building without households is estimated.

Most footprint sources (OSM, a city's 房屋实体 layer) carry a height or a
number of floors, not households. The partitioner needs households and
population per building, so an import estimates them, and says how many it
estimated::

    floors     = round(height / floor_height_m)                   when floors are missing
    households = round(footprint m² × floors × residential_share / m2_per_household)
    population = round(households × persons_per_household)

The defaults are national figures (7th census: 2.62 persons per household;
about 100 m² of gross floor area per household in a Chinese city); a district
sets its own through the environment.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ImportSettings"]


class ImportSettings(BaseSettings):
    """The building estimate's parameters and the caps a building is held to."""

    model_config = SettingsConfigDict(env_prefix="GRIDWALL_IMPORT_", extra="ignore")

    floor_height_m: float = Field(default=3.0, gt=1.0, le=10.0)
    m2_per_household: float = Field(default=100.0, gt=10.0, le=1000.0)
    residential_share: float = Field(default=1.0, gt=0.0, le=1.0)
    persons_per_household: float = Field(default=2.62, gt=0.5, le=10.0)
    max_households: int = Field(default=5_000, ge=1)
    max_population: int = Field(default=20_000, ge=1)
