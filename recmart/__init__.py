"""recmart: a recommendation data mart for an online clothing store."""

__version__ = "0.1.0"
