"""The store's transactional database: its tables and the nightly export to the lake."""
