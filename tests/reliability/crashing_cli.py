"""`spotilla-procountor` as a reliability scenario runs it: the real command line, and when
`SPOTILLA_RELIABILITY_CRASH_AT` names a crash point, the container's providers overridden so that the process
SIGKILLs itself there (see crash_points.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from crash_points import CrashPlan, install

from spotilla_procountor.app import cli


def _build_container_with(plan: CrashPlan):
    build = cli.build_container

    def built(settings=None):
        container = build(settings)
        install(container, plan)
        return container

    return built


if __name__ == "__main__":
    crash_plan = CrashPlan.parse(os.environ.get("SPOTILLA_RELIABILITY_CRASH_AT"))
    if crash_plan is not None:
        cli.build_container = _build_container_with(crash_plan)
    cli.main()
