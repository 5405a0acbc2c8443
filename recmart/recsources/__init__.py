"""Session-aware candidate sources: item -> [(neighbour, score)] tables computed in batch from
training clicks (`tables`), and the serving-time blend of them over a session's newest
clicks (`blend`). Pure Python: the batch side runs anywhere its bounded clicks fit in memory,
the serving side is what the real-time handler can afford per record (one row per
recent product, read from the store). The batch side learns from at most
`SourceSettings.max_clicks` clicks, the newest, read from the lake by `window` as Arrow.
"""
