"""The import pages (routes.py, forms.py) and the import commands (commands.py)."""
