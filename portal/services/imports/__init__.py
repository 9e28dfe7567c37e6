"""Bulk import of a program office's existing records from CSV or Excel files (see batches.py)."""

from portal.services.imports.batches import ImportProblems, approve, check, count_rows, refuse, undo, upload
from portal.services.imports.checks import Plan, Problem
from portal.services.imports.columns import COLUMNS, LABELS, Column
from portal.services.imports.reading import MAX_BYTES

__all__ = ["COLUMNS", "LABELS", "MAX_BYTES", "Column", "ImportProblems", "Plan", "Problem", "approve", "check",
           "count_rows", "refuse", "undo", "upload"]
