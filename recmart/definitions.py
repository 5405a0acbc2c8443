"""The recmart code location: assets, checks, jobs, schedule, sensors and resources."""

import warnings

import dagster as dg

# Partitioned asset checks and partition mappings with optional upstreams are marked preview
# or beta in this Dagster release; recmart relies on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

from recmart.config import get_settings  # noqa: E402

# The code location's one read of the settings, before anything that needs them is imported:
# a wrong value fails the load with a message naming the variable. `recmart.partitions` builds
# the daily partitions from this same object; the resources get it from `resources_for` below.
SETTINGS = get_settings()

from recmart.assets import curated, features, raw, serving  # noqa: E402
from recmart.assets.curated import marts  # noqa: E402
from recmart.automation.jobs import JOBS  # noqa: E402
from recmart.automation.monitoring import MONITORING_SENSORS  # noqa: E402
from recmart.automation.schedules import daily_refresh_schedule  # noqa: E402
from recmart.automation.sensors import landing_files_sensor, late_events_sensor  # noqa: E402
from recmart.deployments import resources_for  # noqa: E402

LAYERS = (raw, curated, features, marts, serving)
ASSETS = [a for layer in LAYERS for a in layer.ASSETS]
CHECKS = [c for layer in LAYERS for c in layer.CHECKS]
SENSORS = [
    landing_files_sensor,
    late_events_sensor,
    dg.build_sensor_for_freshness_checks(freshness_checks=curated.FRESHNESS_CHECKS),
    *(s for layer in LAYERS for s in layer.SENSORS),
    *MONITORING_SENSORS,
]


def build_definitions(resources: dict, executor: str = "in_process") -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=JOBS,
        schedules=[daily_refresh_schedule],
        sensors=SENSORS,
        resources=resources,
        # One process per run by default, so the steps of a run share one Spark JVM;
        # bench/spine compares the multiprocess executor (a process and a JVM per step).
        executor=dg.in_process_executor if executor == "in_process" else dg.multiprocess_executor,
    )


defs = build_definitions(resources_for(SETTINGS), SETTINGS.executor)
