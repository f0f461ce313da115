"""How the long steps report progress: the command line shows bars, the tests and callers that
pass nothing get `no_progress`."""
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

# progress(label, total) -> a context manager yielding update(amount). `total` is in bytes or
# items, or None for a step whose length is unknown (a database dump).
Progress = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def no_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    yield lambda amount=1: None
