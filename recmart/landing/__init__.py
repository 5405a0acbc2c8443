"""The Firehose landing prefix: what landed, counted independently of Spark."""
