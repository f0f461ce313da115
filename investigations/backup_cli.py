"""The old home of `flask backup`, kept so `from investigations.backup_cli import backup_cli` still works."""
from .backup.cli import backup_cli

__all__ = ["backup_cli"]
