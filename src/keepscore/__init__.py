"""keepscore: the sales & marketing scorecard for small businesses."""

__version__ = "0.1.0"
