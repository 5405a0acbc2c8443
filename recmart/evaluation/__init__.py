"""The next-interaction protocol of session-based recommender research, on a click log.

`clicklog` reads session-rec TSV logs and splits them; `protocol` replays each test
session click by click and judges every recommender's list against the next click;
`recommenders` wraps popularity and the candidate sources of `recmart.recsources` as
recommenders; `cli` is `recmart evaluate`. Pure Python and numpy: no Spark, no Dagster.
"""
