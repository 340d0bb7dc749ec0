"""How big a demo district is: one small pydantic model and three named profiles.

The profiles are data, not code paths: every stage of the generator reads its
counts from a :class:`DemoScale`, so a new profile (a county seat, a whole city)
is one more entry in :data:`SCALES`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from layers.errors import NotFound

__all__ = ["DemoScale", "SCALES", "resolve_scale"]


class DemoScale(BaseModel):
    """Counts and densities of one demo district.

    Parameters
    ----------
    name
        Profile name, recorded on the result.
    n_buildings
        Buildings placed (exact).
    area_km2
        Area of the district outline before the river bank is cut off; sets how many
        blocks there are (blocks have a fixed typical size) and so the density.
    n_streets, n_communities
        Street offices (街道) and communities (社区); the 16 real street names of
        开福区 are used in order, so ``n_streets`` is at most 16.
    n_cameras, n_workers, n_components, n_events, n_resources
        Counts of the point layers (exact, except workers when there are fewer
        workers than grids, which never happens in the profiles).
    inner_area_share
        Share of the district inside the ring road (the inner street zone, 内街).
    inner_building_share
        Share of the buildings standing in the inner zone.
    highrise_boost
        Multiplies the share of high-rise compounds among blocks and buildings; the small profile is a denser
        slice of the city so that its few streets still hold some forty grids.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    n_buildings: int = Field(gt=50)
    area_km2: float = Field(gt=0.5)
    n_streets: int = Field(ge=1, le=16)
    n_communities: int = Field(ge=1)
    n_cameras: int = Field(ge=20)
    n_workers: int = Field(ge=1)
    n_components: int = Field(ge=20)
    n_events: int = Field(ge=50)
    n_resources: int = Field(ge=6)
    inner_area_share: float = Field(default=0.38, gt=0.05, lt=0.9)
    highrise_boost: float = Field(default=1.0, gt=0.0)
    inner_building_share: float = Field(default=0.57, gt=0.05, lt=0.95)


SCALES: dict[str, DemoScale] = {
    s.name: s
    for s in (
        DemoScale(
            name="small", n_buildings=1_600, area_km2=2.2, n_streets=3, n_communities=8, n_cameras=400,
            n_workers=45, n_components=1_000, n_events=2_000, n_resources=12, inner_area_share=0.5,
            inner_building_share=0.8, highrise_boost=2.4,
        ),
        DemoScale(
            name="default", n_buildings=33_000, area_km2=62.0, n_streets=16, n_communities=100,
            n_cameras=12_000, n_workers=530, n_components=25_000, n_events=100_000, n_resources=120,
        ),
        DemoScale(
            name="city", n_buildings=33_000, area_km2=62.0, n_streets=16, n_communities=100,
            n_cameras=30_000, n_workers=5_000, n_components=25_000, n_events=1_000_000, n_resources=120,
        ),
    )
}


def resolve_scale(scale: DemoScale | str) -> DemoScale:
    """The profile called ``scale``, or ``scale`` itself when it is already one.

    Raises
    ------
    NotFound
        For an unknown profile name; the message lists the known ones.
    """
    if isinstance(scale, DemoScale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise NotFound(f"unknown demo scale {scale!r}; known scales: {', '.join(SCALES)}") from None
