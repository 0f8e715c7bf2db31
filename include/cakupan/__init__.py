"""Cakupan: a coverage warehouse for vulnerable workers' social security in Indonesian regencies."""

__version__ = "0.1.0"
