"""Index generations on disk, the same for every engine that keeps its index in files.

An engine's index lives in ROOT/<generation>, with the symlink ROOT/current pointing at the one in
use. `flask search reindex` builds a new generation aside and swaps the pointer atomically, so
readers see the old index or the new one, never none; the old directory is then removed (open
readers keep the files they have open or mapped).
"""
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path


class Generations:
    """The generations of one index under `root`; `create(directory)` makes an empty index there."""

    def __init__(self, root: str | Path, create: Callable[[Path], None]):
        self.root = Path(root)
        self._create = create

    @property
    def pointer(self) -> Path:
        return self.root / "current"

    def current_dir(self) -> Path:
        """The generation in use, created empty on first use (once, whichever process gets there first)."""
        if not self.pointer.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / ".create.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not self.pointer.exists():
                    self.point_to(self.new())
        return self.pointer.resolve()

    def new(self) -> Path:
        """A new, empty generation beside the current one (not yet in use)."""
        generation = self.root / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        generation.mkdir(parents=True)
        self._create(generation)
        return generation

    def point_to(self, generation: Path) -> None:
        link = self.root / f".current-{uuid.uuid4().hex[:8]}"
        link.unlink(missing_ok=True)
        link.symlink_to(generation.name)
        os.replace(link, self.pointer)  # atomic: readers see the old or the new index, never none

    def swap(self, generation: Path) -> None:
        """Put `generation` in use and remove the one it replaces."""
        old = self.pointer.resolve() if self.pointer.exists() else None
        self.point_to(generation)
        if old and old != generation:
            shutil.rmtree(old, ignore_errors=True)
