"""The ``keepscore`` command line: set up, serve and try out keepscore."""
