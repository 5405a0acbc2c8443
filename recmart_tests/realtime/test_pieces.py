"""The handler's pure pieces: click validation, times, history merging, snapshot planning, config."""

from __future__ import annotations

import itertools

import pytest

from recmart.realtime.clicks import InvalidClick, decode_kinesis_data, validate_click
from recmart.realtime.config import ConfigError, HandlerConfig
from recmart.realtime.dead_letters import (
    JsonlDeadLetters,
    SqliteDeadLetters,
    SqsDeadLetters,
    open_dead_letters,
)
from recmart.realtime.history import (
    HistoryEvent,
    HistoryLimits,
    Purchase,
    UserHistory,
    merge_history,
)
from recmart.realtime.kinesis import encode
from recmart.realtime.store import open_store
from recmart.realtime.store.snapshot import Slots, plan_load, visible
from recmart.realtime.timeutil import canonical, micros_to_iso, parse_iso_with_zone, to_micros

from .factories import click

# ---- clicks -------------------------------------------------------------------------------------


def test_a_valid_click_with_extras_is_accepted():
    c = validate_click(click("e1", "P1", event_time="2026-11-20T11:00:00+01:00", price=9.5, device="ios", extra=1))
    assert (c.event_id, c.user_id, c.product_id) == ("e1", "u1", "P1")
    assert micros_to_iso(c.event_micros) == "2026-11-20T10:00:00.000000Z"
    assert validate_click(click("e1", "P1", user_id=None)).user_id is None
    assert decode_kinesis_data(encode(click("e1", "P1"))).event_id == "e1"


@pytest.mark.parametrize(("mutation", "reason"), [
    ({"event_id": None}, "missing_field"),
    ({"session_id": ""}, "bad_type"),
    ({"product_id": 12}, "bad_type"),
    ({"event_type": "purchase"}, "bad_event_type"),
    ({"event_time": "2026-11-20T10:00:00"}, "bad_event_time"),
    ({"event_time": "yesterday"}, "bad_event_time"),
    ({"event_time": "2026-13-20T10:00:00Z"}, "bad_event_time"),
    ({"user_id": 5}, "bad_type"),
    ({"price": "9.99"}, "bad_type"),
    ({"price": True}, "bad_type"),
    ({"ip": 127}, "bad_type"),
])
def test_contract_violations_are_rejected_with_a_reason(mutation, reason):
    with pytest.raises(InvalidClick) as exc:
        validate_click({**click("e1", "P1"), **mutation})
    assert exc.value.reason == reason


def test_undecodable_records_are_rejected():
    for data, reason in [("%%%", "not_base64"), (encode(b"\xff\xfe"), "not_utf8"), (encode(b"{"), "not_json"),
                         (encode(b"[]"), "not_object"), (None, "not_base64")]:
        with pytest.raises(InvalidClick) as exc:
            decode_kinesis_data(data)
        assert exc.value.reason == reason


# ---- times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00.000000Z"),
    ("2026-11-20 10:00:00.5z", "2026-11-20T10:00:00.500000Z"),
    ("2026-11-20T10:00Z", "2026-11-20T10:00:00.000000Z"),
    ("2026-11-20T00:30:00.123456789-0230", "2026-11-20T03:00:00.123456Z"),
    ("2026-11-21T01:00:00+05", "2026-11-20T20:00:00.000000Z"),
])
def test_iso_times_with_a_zone_become_canonical_utc(text, utc):
    assert canonical(text) == utc
    assert micros_to_iso(to_micros(parse_iso_with_zone(text))) == utc


# ---- history ------------------------------------------------------------------------------------

DAY = 86_400_000_000


def _e(n: int, t: int) -> HistoryEvent:
    return HistoryEvent(f"e{n}", "view", f"P{n}", t)


def test_merging_is_idempotent_and_order_independent():
    events = [_e(n, n * 1000) for n in range(8)]
    limits = HistoryLimits(max_events=5)
    results = set()
    for order in itertools.islice(itertools.permutations(events), 0, 200, 7):
        h = UserHistory("u")
        for chunk in (order[:3], order[3:], order):  # the last chunk is a full replay
            h = merge_history(h, chunk, (), limits)
        results.add((h.events, h.purchases))
    assert len(results) == 1
    assert [e.event_id for e in next(iter(results))[0]] == ["e3", "e4", "e5", "e6", "e7"]


def test_history_forgets_what_is_older_than_the_window_from_the_newest_event():
    h = merge_history(UserHistory("u"), [_e(1, 0), _e(2, 10 * DAY), _e(3, 40 * DAY)],
                      [Purchase("o1", "P9", 5 * DAY), Purchase("o2", "P8", 39 * DAY)],
                      HistoryLimits(max_age_days=30, purchase_window_days=30))
    assert [e.event_id for e in h.events] == ["e2", "e3"]
    assert [p.order_id for p in h.purchases] == ["o2"]
    assert h.newest_micros == 40 * DAY


# ---- snapshot planning --------------------------------------------------------------------------


def test_readers_see_the_newest_slot_at_or_before_their_generation():
    s = Slots(3, "new", 1, "old")
    assert [visible(s, g) for g in (0, 1, 2, 3, 4)] == [None, "old", "old", "new", "new"]
    assert visible(None, 5) is None


def test_a_plan_writes_only_changes_and_keeps_what_current_readers_see():
    current = {"a": Slots(1, "A"), "b": Slots(1, "B"), "c": Slots(1, "C")}
    plan = plan_load(current, {"a": "A", "b": "B2", "d": "D"}, generation=2)
    assert plan.puts == {"b": Slots(2, "B2", 1, "B"), "c": Slots(2, None, 1, "C"), "d": Slots(2, "D")}
    assert (plan.added, plan.updated, plan.removed, plan.unchanged, plan.deletes) == (1, 1, 1, 1, [])
    applied = {**current, **plan.puts}
    assert {k: visible(v, 1) for k, v in applied.items()} == {"a": "A", "b": "B", "c": "C", "d": None}
    assert {k: visible(v, 2) for k, v in applied.items()} == {"a": "A", "b": "B2", "c": None, "d": "D"}
    # The next load collects the tombstone nobody can see through any more.
    assert plan_load(applied, {"a": "A", "b": "B2", "d": "D"}, generation=3).deletes == ["c"]


def test_a_plan_repairs_the_leftovers_of_a_failed_load():
    # Generation 2 was half written (b, and a tombstone for c) and never switched to.
    current = {"a": Slots(1, "A"), "b": Slots(2, "B-half", 1, "B"), "c": Slots(2, None, 1, "C"), "x": Slots(2, "X")}
    plan = plan_load(current, {"a": "A2", "b": "B", "c": "C"}, generation=2)
    applied = {**current, **plan.puts}
    for key in plan.deletes:
        applied.pop(key)
    assert {k: visible(v, 2) for k, v in applied.items()} == {"a": "A2", "b": "B", "c": "C"}
    assert {k: visible(v, 1) for k, v in applied.items()} == {"a": "A", "b": "B", "c": "C"}


# ---- configuration ------------------------------------------------------------------------------


def test_config_defaults_and_overrides():
    assert HandlerConfig.from_env({}) == HandlerConfig()
    cfg = HandlerConfig.from_env({"RECMART_RT_TOP_N": "10", "RECMART_RT_HALF_LIFE_HOURS": "2.5",
                                  "RECMART_RECS_STORE": "dynamodb://"})
    assert (cfg.top_n, cfg.half_life_hours, cfg.resolved_dead_letters_url) == (10, 2.5, "sqs://")
    assert HandlerConfig.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f"}).store_url == "dynamodb://"
    assert HandlerConfig().resolved_dead_letters_url == "sqlite:///./.recmart/recommendations.sqlite"


@pytest.mark.parametrize(("env", "named"), [
    ({"RECMART_RT_TOP_N": "many"}, "RECMART_RT_TOP_N"),
    ({"RECMART_RT_TOP_N": "0"}, "RECMART_RT_TOP_N"),
    ({"RECMART_RT_HALF_LIFE_HOURS": "-1"}, "RECMART_RT_HALF_LIFE_HOURS"),
    ({"RECMART_RT_ITEM_CACHE_SIZE": "1.5"}, "RECMART_RT_ITEM_CACHE_SIZE"),
    ({"RECMART_RT_LOG_LEVEL": "LOUD"}, "RECMART_RT_LOG_LEVEL"),
])
def test_bad_settings_fail_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        HandlerConfig.from_env(env)


def test_bad_store_and_dead_letter_urls_name_the_setting(tmp_path):
    with pytest.raises(ValueError, match="RECMART_RECS_STORE"):
        open_store("redis://x")
    with pytest.raises(ValueError, match="RECMART_RECS_STORE"):
        open_store("dynamodb://?tabel=x")
    with pytest.raises(ValueError, match="RECMART_RT_DEAD_LETTERS"):
        open_dead_letters("ftp://x", "RECMART_RT_DEAD_LETTERS")
    assert isinstance(open_dead_letters(f"jsonl:///{tmp_path}/d.jsonl", "X"), JsonlDeadLetters)
    assert isinstance(open_dead_letters(f"sqlite:///{tmp_path}/d.sqlite", "X"), SqliteDeadLetters)
    assert open_dead_letters("sqs://", "X").queue == "recmart-realtime-dead-letters"
    store = open_store(f"sqlite:///{tmp_path}/s.sqlite")
    assert store.path == tmp_path / "s.sqlite"
    store.close()
    assert isinstance(open_dead_letters("https://sqs.eu-west-1.amazonaws.com/1/q", "X"), SqsDeadLetters)
