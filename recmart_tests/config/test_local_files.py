"""Every file the local deployment writes lives where the settings put it: nothing lands in
the working directory when RECMART_LAKE, RECMART_SOURCE_DB and RECMART_RECS_STORE point
elsewhere."""

from __future__ import annotations

import datetime as dt

from recmart.config import load_settings
from recmart.deployments import resources_for
from recmart.feature_groups.groups import FEATURE_GROUPS
from recmart.resources.metrics import Metric


def test_the_feature_store_and_metrics_follow_the_lake(tmp_path, monkeypatch):
    cwd, lake = tmp_path / "cwd", tmp_path / "elsewhere" / "lake"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("RECMART_LAKE", str(lake))
    monkeypatch.setenv("RECMART_SOURCE_DB", f"sqlite:///{tmp_path / 'source.db'}")
    monkeypatch.setenv("RECMART_RECS_STORE", f"sqlite:///{tmp_path / 'recommendations.sqlite'}")
    resources = resources_for(load_settings())

    group = FEATURE_GROUPS[0]
    store = resources["feature_store"]
    store.ensure_groups(FEATURE_GROUPS)
    row = {f.name: "1" for f in group.features} | {
        group.record_identifier: "id-1", group.event_time_feature: dt.datetime(2026, 11, 21).isoformat() + "Z"}
    assert store.put_records(group, [row]).written == 1
    resources["metrics"].put([Metric("RowsWritten", 1.0, "Count", {"asset": "x"})])

    assert sorted(p.name for p in cwd.iterdir()) == [], "the working directory got files"
    assert (lake / "_feature_store" / "online.db").is_file()
    assert (lake / "_metrics" / "metrics.jsonl").is_file()
    assert store.get_record(group, "id-1")[group.record_identifier] == "id-1"
