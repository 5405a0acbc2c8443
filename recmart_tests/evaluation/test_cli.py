"""`recmart evaluate` end to end on tiny logs, and the click log's errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from recmart.evaluation.cli import evaluate_command
from recmart.evaluation.clicklog import ClickLogError, read_clicks, sessions_of, split_by_time

HEADER = "SessionId\tItemId\tTime\n"


def write(path, rows, header=HEADER):
    path.write_text(header + "".join("\t".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    return path


# Training: a->b three times, c once after b. The test session a, b, c: popularity (b 4,
# a 3, c 1: [b, a, c]) ranks b 1st after a and c 3rd after b; with b removed after b, c is 2nd.
TRAIN = [(1, "a", 10), (1, "b", 11), (2, "a", 20), (2, "b", 21), (3, "a", 30), (3, "b", 31), (3, "c", 32), (4, "b", 40)]
TEST = [(9, "a", 100), (9, "b", 101), (9, "c", 102)]


def run(args):
    result = CliRunner().invoke(evaluate_command, args, catch_exceptions=False)
    return result


def test_evaluate_prints_and_writes_both_scopes(tmp_path):
    train, test = write(tmp_path / "train.tsv", TRAIN), write(tmp_path / "test.tsv", TEST)
    out = tmp_path / "out"
    result = run(["--train", str(train), "--test", str(test), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "served_blend" in result.output and "next_is_other" in result.output
    rows = {(r["recommender"], r["scope"]): r for r in json.loads((out / "results.json").read_text())}
    assert set(rows) == {(name, scope) for name in ("popularity", "sequential_rules", "session_neighbours",
                                                    "served_blend") for scope in ("all", "next_is_other")}
    pop_all, pop_other = rows["popularity", "all"], rows["popularity", "next_is_other"]
    assert pop_all["positions"] == 2 and pop_all["mrr_at_20"] == pytest.approx((1 + 1 / 3) / 2)
    assert pop_other["positions"] == 2 and pop_other["mrr_at_20"] == pytest.approx((1 + 1 / 2) / 2)
    # the rules know b follows a and c follows b: both next clicks first
    assert rows["sequential_rules", "next_is_other"]["mrr_at_20"] == 1.0
    assert rows["served_blend", "next_is_other"]["hr_at_10"] == 1.0
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("recommender,scope,positions,hr_at_10,hr_at_20,mrr_at_20,ndcg_at_20")
    assert len(csv_lines) == 1 + 8


def test_evaluate_splits_one_log_by_time(tmp_path):
    log = write(tmp_path / "log.tsv", TRAIN + TEST)
    out = tmp_path / "out"
    result = run(["--train", str(log), "--split-time", "1970-01-01T00:01:40Z", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "test: 3 clicks, 1 sessions" in result.output
    rows = json.loads((out / "results.json").read_text())
    assert rows[0]["recommender"] == "popularity" and rows[0]["positions"] == 2


@pytest.mark.parametrize("args, message", [
    ([], "either --test or --split-time"),
    (["--split-time", "soon"], "neither epoch seconds nor an ISO-8601 time"),
    (["--split-time", "1"], "no training clicks"),
    (["--split-time", "1000"], "no test clicks"),
])
def test_evaluate_refuses_what_it_cannot_judge(tmp_path, args, message):
    log = write(tmp_path / "log.tsv", TRAIN + TEST)
    result = run(["--train", str(log), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_evaluate_names_the_bad_line(tmp_path):
    train = write(tmp_path / "train.tsv", TRAIN[:2] + [(5, "x", "noon")])
    result = run(["--train", str(train), "--test", str(write(tmp_path / "t.tsv", TEST)), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "train.tsv: line 4: Time 'noon' is not epoch seconds" in result.output


@pytest.mark.parametrize("text, message", [
    ("", "line 1: empty file"),
    ("SessionId\tItemId\n1\ta\n", "line 1: header ['SessionId', 'ItemId'] lacks column(s) Time"),
    (HEADER + "1\ta\t10\n1\tb\n", "line 3: 2 tab-separated fields, the header has 3"),
    (HEADER + "1\t\t10\n", "line 2: empty SessionId or ItemId"),
    (HEADER + "1\ta\tnan\n", "line 2: Time 'nan' is not a finite number"),
])
def test_read_clicks_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "log.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClickLogError, match=re.escape(message)):
        read_clicks(path)


def test_read_clicks_any_column_order_and_sessions_in_time_order(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text("Time\tItemId\tSessionId\n5\tb\t1\n3\ta\t1\n1\tz\t2\n5\tc\t1\n\n", encoding="utf-8")
    by_session = sessions_of(read_clicks(path))
    assert list(by_session) == ["2", "1"]
    assert [c.item for c in by_session["1"]] == ["a", "b", "c"]  # b and c tie at 5: file order


def test_split_by_time_moves_whole_sessions(tmp_path):
    clicks = read_clicks(write(tmp_path / "log.tsv", [(1, "a", 10), (1, "b", 60), (2, "c", 50)]))
    train, test = split_by_time(clicks, 50)
    assert [c.item for c in train] == ["a", "b"] and [c.item for c in test] == ["c"]
