"""The website's read path: a JSON endpoint and a small HTML page over the recommendation store."""
