"""Full-text search in Chinese over cases, parties and diary entries (issue 7).

``search_cases`` (services.py) is the one search function; ``index.py`` keeps the
index; ``export.py`` writes the filtered case list to XLSX and CSV.
"""
from . import index  # noqa: F401  (the DDL events and the listeners)
from .services import search_cases  # noqa: F401
