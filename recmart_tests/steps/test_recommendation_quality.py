"""The daily recommendation_quality report: the handler's scorer replayed over a day against the
snapshot of the day before, judged on each user's next event; its figures equal `recmart
evaluate` on the same clicks; its check fails a day with nothing to judge."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from recmart.assets.curated.marts.checks import served_blend_beats_popularity
from recmart.evaluation.cli import evaluate_command
from recmart.realtime.history import HistoryEvent, UserHistory
from recmart.realtime.loader import load_snapshot
from recmart.realtime.scoring import recommend
from recmart.realtime.store.base import POPULAR
from recmart.realtime.store.sqlite import SqliteStore
from recmart.resources.lake import LocalLake
from recmart.resources.sql import DuckDBLakeSql
from recmart.steps.recommendation_quality import QualitySettings, judge_day, report_rows
from recmart.tables import CURATED_ITEM_NEIGHBOURS, CURATED_RECOMMENDATION_QUALITY

T0 = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)


def ev(n, user, product, second, session=None, kind="view"):
    return {"event_id": f"e{n}", "event_type": kind, "event_time": T0 + dt.timedelta(seconds=second),
            "session_id": session or f"s-{user}", "user_id": user, "product_id": product}


def by_key(report):
    return {(r["recommender"], r["scope"]): r for r in report_rows(report)}


def test_each_event_of_the_day_is_judged_against_the_same_users_next_event():
    # The day before: one anonymous session A -> B. Sequential rules: A -> B; session
    # neighbours: A <-> B; popularity: A, B (one click each, ties by id).
    window = [ev(1, None, "A", -86_000, session="x"), ev(2, None, "B", -85_990, session="x")]
    # The day, users interleaved: u1 A then B, u2 B then A, u3 one event (nothing to judge
    # after it), an anonymous event (not judged: the handler keeps no history for it).
    day = [ev(10, "u1", "A", 0), ev(11, "u2", "B", 1), ev(12, None, "A", 2), ev(13, "u1", "B", 3),
           ev(14, "u2", "A", 4), ev(15, "u3", "A", 5)]
    report = judge_day(day, window)
    assert (report.users_active, report.users_judged) == (3, 2)
    rows = by_key(report)
    assert set(rows) == {(r, s) for r in ("popularity", "sequential_rules", "session_neighbours", "served_blend")
                         for s in ("all", "next_is_other")}  # no item neighbours in the snapshot: no row
    # Served after u1's A: B (its only candidate), A never (just viewed): next B at rank 1.
    # After u2's B: A (session neighbour of B): next A at rank 1.
    served = rows["served_blend", "all"]
    assert (served["positions"], served["hr_at_10"], served["hr_at_20"], served["mrr_at_20"]) == (2, 1.0, 1.0, 1.0)
    assert served["coverage"] == 1.0 and served["popularity_bias"] == 1.0  # A and B shown; both the top
    # Sequential rules alone: after A, B; after B nothing of its own, so the fill: popularity minus B, i.e. A.
    assert rows["sequential_rules", "next_is_other"]["mrr_at_20"] == 1.0
    # Popularity [A, B] for everyone: after u1's A the next B is 2nd (1st once A is removed),
    # after u2's B the next A is 1st.
    pop_all, pop_other = rows["popularity", "all"], rows["popularity", "next_is_other"]
    assert (pop_all["positions"], pop_all["mrr_at_20"]) == (2, pytest.approx(0.75))
    assert (pop_other["positions"], pop_other["mrr_at_20"]) == (2, 1.0)


def test_a_repeat_of_the_current_product_is_a_miss_in_all_and_not_a_position_of_next_is_other():
    window = [ev(1, None, "A", -500, session="x"), ev(2, None, "B", -499, session="x")]
    report = by_key(judge_day([ev(10, "u1", "A", 0), ev(11, "u1", "A", 1), ev(12, "u1", "B", 2)], window))
    served_all, served_other = report["served_blend", "all"], report["served_blend", "next_is_other"]
    # After A: next A (never served: a miss); after the second A: next B, hit at 1.
    assert (served_all["positions"], served_all["hr_at_20"], served_all["mrr_at_20"]) == (2, 0.5, 0.5)
    assert (served_other["positions"], served_other["hr_at_20"]) == (1, 1.0)


def test_the_history_starts_with_the_users_earlier_events_as_the_handlers_does():
    # C -> D learnt the day before; u1 viewed C the day before and A today.
    window = [ev(1, None, "C", -800, session="x"), ev(2, None, "D", -799, session="x"),
              ev(3, None, "A", -700, session="y"), ev(4, None, "Z", -699, session="y"),
              ev(5, "u1", "C", -600, session="old")]
    day = [ev(10, "u1", "A", 0), ev(11, "u1", "D", 1)]
    report = by_key(judge_day(day, window))
    # After A, u1's history is C, A: D (from C, one event back) is served below Z (from A),
    # so the next D is found at rank 2; without the earlier C it would be a fill at best.
    assert report["sequential_rules", "next_is_other"]["mrr_at_20"] == 0.5
    assert report["sequential_rules", "next_is_other"]["positions"] == 1  # yesterday's C is not judged


def test_no_event_on_the_day_gives_null_rates_not_zeros():
    rows = report_rows(judge_day([], [ev(1, None, "A", -5, session="x")]))
    assert rows and all(r["positions"] == 0 and r["hr_at_20"] is None and r["coverage"] is None for r in rows)


def test_a_large_day_is_sampled_to_the_stated_number_of_users_the_same_way_each_time():
    window = [ev(1, None, "A", -5, session="x"), ev(2, None, "B", -4, session="x")]
    day = [ev(10 + 2 * k + j, f"u{k}", "AB"[j], 2 * k + j) for k in range(30) for j in range(2)]
    first = judge_day(day, window, settings=QualitySettings(max_users=7))
    assert (first.users_active, first.users_judged) == (30, 7)
    assert by_key(first)["served_blend", "all"]["positions"] == 7
    assert report_rows(first) == report_rows(judge_day(list(reversed(day)), window, settings=QualitySettings(max_users=7)))


def test_item_neighbours_are_judged_alone_and_serve_a_product_the_session_sources_do_not_know():
    window = [ev(1, None, "A", -5, session="x"), ev(2, None, "B", -4, session="x")]
    neighbours = [{"product_id": "Q", "neighbour_id": "R", "rank": 1, "score": 0.9}]
    rows = by_key(judge_day([ev(10, "u1", "Q", 0), ev(11, "u1", "R", 1)], window, neighbours))
    # Q has no session rows: the served scorer falls back to its item neighbours, R first.
    assert rows["served_blend", "all"]["mrr_at_20"] == 1.0 and rows["item_neighbours", "all"]["mrr_at_20"] == 1.0
    assert rows["session_neighbours", "all"]["hr_at_20"] == 1.0  # the same fallback, whatever the source weight


def _write_tsv(path, rows):
    path.write_text("SessionId\tItemId\tTime\n" + "".join(f"{s}\t{i}\t{t}\n" for s, i, t in rows), encoding="utf-8")
    return path


def test_the_report_equals_recmart_evaluate_on_the_same_clicks(tmp_path):
    # A made-up log: the day before trains, the day is judged; sessions are users, new each day.
    rng = random.Random(5)
    products = [f"P{k}" for k in range(25)]
    window, day, n = [], [], 0
    for target, first_second, count in ((window, -86_000, 120), (day, 0, 60)):
        for k in range(count):
            user = f"{'old' if target is window else 'new'}{k}"
            p = rng.choice(products)
            for step in range(rng.randint(1, 6)):
                n += 1
                target.append(ev(n, user, p, first_second + 600 * k + 7 * step, session=user))
                p = rng.choice(products[:8]) if rng.random() < 0.5 else products[(products.index(p) + 1) % 25]
    report = report_rows(judge_day(day, window))
    seconds = lambda e: int(e["event_time"].timestamp())  # noqa: E731
    train = _write_tsv(tmp_path / "train.tsv", [(e["session_id"], e["product_id"], seconds(e)) for e in window])
    test = _write_tsv(tmp_path / "test.tsv", [(e["session_id"], e["product_id"], seconds(e)) for e in day])
    result = CliRunner().invoke(evaluate_command, ["--train", str(train), "--test", str(test), "--out",
                                                   str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    evaluated = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [(r["recommender"], r["scope"]) for r in evaluated] == [(r["recommender"], r["scope"]) for r in report]
    assert min(r["positions"] for r in report) > 100
    for got, want in zip(report, evaluated, strict=True):
        assert got["positions"] == want["positions"]
        for k in ("hr_at_10", "hr_at_20", "mrr_at_20", "ndcg_at_20", "coverage", "popularity_bias"):
            # Sums over the same positions in another order of users: equal to the last bits but one.
            assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-15), (got["recommender"], got["scope"], k)


def test_the_store_holds_the_sources_and_the_handlers_scorer_blends_them(tmp_path):
    store = SqliteStore(str(tmp_path / "store.db"))
    stats = load_snapshot(store, [{"product_id": "A", "neighbour_id": "N", "rank": 1, "score": 1.0}], [], "2026-11-19",
                          sources={"sequential_rules": {"A": [("B", 0.5)]}, "session_neighbours": {"A": [("C", 0.2)]}},
                          popular=[("P", 0.3)])
    assert stats["source_rows"] == 2
    snapshot = store.current_snapshot()
    items = store.get_items(["A"], snapshot)
    # One blended row (4 x 0.2 for C, 1 x 0.5 for B), not the separate rows.
    assert items["A"].sources == {} and items["A"].blend == (("C", 0.8), ("B", 0.5))
    assert stats["blend_rows"] == 2
    trending = store.get_trending([POPULAR], snapshot)
    history = UserHistory("u", (HistoryEvent("e1", "view", "A", 1_800_000_000_000_000),))
    recs = recommend(history, items, trending)
    # C: 4 x 0.2 = 0.8 above B: 1 x 0.5; the item neighbour N is not used for a product with session rows;
    # then the popularity fill.
    assert [(r["product_id"], r["reason"]) for r in recs] == [
        ("C", "similar_to:A"), ("B", "similar_to:A"), ("P", f"trending:{POPULAR}")]
    assert recs[0]["score"] == pytest.approx(0.8)
    # Loading the same again writes nothing (the documents with sources are stable).
    again = load_snapshot(store, [{"product_id": "A", "neighbour_id": "N", "rank": 1, "score": 1.0}], [], "2026-11-19",
                          sources={"sequential_rules": {"A": [("B", 0.5)]}, "session_neighbours": {"A": [("C", 0.2)]}},
                          popular=[("P", 0.3)])
    assert again["noop"]


def _publish(lake: LocalLake, table, day: str, rows: list[dict]) -> None:
    staging = lake.new_staging(table, day, "test-run")
    folder = Path(lake.fs_path(staging))
    folder.mkdir(parents=True, exist_ok=True)
    full = [{c: r.get(c, 0) for c in table.arrow_schema().names} for r in rows]
    pq.write_table(pa.Table.from_pylist(full, schema=table.arrow_schema()), folder / "part-00000.parquet")
    lake.publish(table, day, staging)


def _report(tmp_path, rows: list[tuple], snapshot: bool = True) -> DuckDBLakeSql:
    """A lake holding the day's report (next_is_other rows) and, when `snapshot`, item
    neighbours of the day before (what a snapshot of D-1 is built from)."""
    lake = LocalLake(root=str(tmp_path / "lake"))
    _publish(lake, CURATED_RECOMMENDATION_QUALITY, "2026-11-20", [
        {"recommender": r, "scope": "next_is_other", "positions": n, "hr_at_20": hr, "mrr_at_20": mrr}
        for r, n, hr, mrr in rows])
    if snapshot:
        _publish(lake, CURATED_ITEM_NEIGHBOURS, "2026-11-19",
                 [{"product_id": "A", "neighbour_id": "B", "rank": 1, "score": 1.0, "co_users": 2}])
    return DuckDBLakeSql(lake=lake)


@pytest.mark.parametrize("rows, snapshot, passed, says", [
    ([("served_blend", 100, 0.30, 0.2), ("popularity", 100, 0.35, 0.1)], True, False, "does not beat"),
    ([("served_blend", 100, 0.40, 0.2), ("popularity", 100, 0.35, 0.1)], True, True, ""),
    ([("served_blend", 0, None, None), ("popularity", 0, None, None)], True, False, "nothing judged"),
    ([], True, False, "nothing judged"),
    ([("served_blend", 100, 0.0, 0.0), ("popularity", 100, 0.0, 0.0)], False, False, "no snapshot of the day before"),
])
def test_the_check_warns_when_popularity_wins_and_fails_a_day_with_nothing_to_judge(tmp_path, rows, snapshot,
                                                                                    passed, says):
    verdict = served_blend_beats_popularity(_report(tmp_path, rows, snapshot), "2026-11-20")
    assert verdict.passed is passed and says in (verdict.description or "")
    if not passed:
        assert verdict.severity == dg.AssetCheckSeverity.WARN
