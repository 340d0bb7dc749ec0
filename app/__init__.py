"""The command-hall wall, the operator console and the planner (Dash).

A client of the API like any other: every figure on screen comes through
:class:`app.client.ApiClient`, so the wall can run on its own machine.
"""

from app.main import create_wall_app, run_wall
from app.settings import WallSettings

__all__ = ["create_wall_app", "run_wall", "WallSettings"]
