"""The pages: wall, console, planner (each owns its layout and callbacks)."""
