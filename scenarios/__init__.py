"""The simulation's data, shipped inside the package so an installed wheel finds it: workload
profiles, arrival curves, areas (communes and their codes), the fault catalogue and scenarios,
and example chain overrides. Only data lives here; the code that reads it validates it."""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent
