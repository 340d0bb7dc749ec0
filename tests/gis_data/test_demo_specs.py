"""The demo district meets the same rules as any file a user loads."""

from __future__ import annotations

import pytest

from gis_data.demo import generate_district
from gis_data.specs import spec_for
from gis_data.validation import validate

FRAMES = {
    "admin_areas": "admin", "roads": "roads", "water": "water", "blocks": "blocks", "workers": "workers",
    "grids": "grids", "buildings": "buildings", "components": "components", "cameras": "cameras",
    "resources": "resources",
}


@pytest.fixture(scope="module")
def district():
    return generate_district("small", seed=11)


@pytest.mark.parametrize("layer", list(FRAMES))
def test_each_generated_layer_passes_its_import_spec(district, layer):
    frame = getattr(district, FRAMES[layer])
    if "cell" in frame.columns:
        frame = frame.drop(columns="cell")
    clean = validate(frame, spec_for(layer), source=f"demo:{layer}")
    assert len(clean) == len(frame)


def test_located_events_pass_the_event_spec(district):
    located = district.events[district.events.geometry.notna()]
    assert 0 < len(located) < len(district.events)  # some hotline events carry only a community
    assert len(validate(located, spec_for("events"), source="demo:events")) == len(located)
