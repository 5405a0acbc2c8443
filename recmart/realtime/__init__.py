"""Real-time recommendations: each click refreshes that user's recommendations.

`recmart.realtime.handler` is the Lambda entry point. It and everything it imports use
only the standard library, boto3 (the Lambda runtime's) and msgspec (its wheel is packed
into the zip), so that it ships as a small zip (`python -m recmart.realtime.package`).
Modules that need more (`firehose`, `stream`, `cli`) are never imported by the handler.
"""
