"""The one error a backup, a verification or a restore raises when it cannot go ahead."""


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the terminal."""
