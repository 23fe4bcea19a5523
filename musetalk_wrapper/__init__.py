"""Avatar engines for PresGen, run as a subprocess in each engine's own venv.

Only argv, JSON and files cross the boundary to the orchestrator: see ``result.schema.json``
and ``timings.schema.json`` beside this file, and ``python -m musetalk_wrapper --help``.
"""

from __future__ import annotations

SCHEMA_VERSION = 2  # result.schema.json; 2: --check gives `fix`, --segments batch results
