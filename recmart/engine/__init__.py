"""Engines that run a step's SQL: DuckDB embedded (the local default) and Spark (scale-out).

A transform is written once, as SQL in Spark's dialect restricted to what `portable` allows;
each engine reads the step's input partitions as named relations, runs the transform's
statements, and writes its outputs with the tables' exact schemas. Transforms never touch
files: the engine reads and writes.
"""
