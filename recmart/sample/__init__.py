"""A deterministic sample store: catalogue, users, orders and a Firehose-shaped clickstream.

`seed_sample` fills a source database and a lake's landing prefix; `simulate_clicks`
streams the same kind of clicks for the real-time simulator.
"""
