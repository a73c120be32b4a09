"""A one-line text progress bar for long commands, without a dependency."""

from collections.abc import Callable


class ProgressBar:
    """`Locations [##########....................]  700/2000  35%`, redrawn in place.

    `write` takes text as it is (no newline added, flushed). The bar is redrawn only when
    its percentage moves, so a fast loop does not flood a slow terminal.
    """

    def __init__(
        self, write: Callable[[str], None], total: int, label: str, width: int = 30
    ) -> None:
        self.write = write
        self.total = total
        self.label = label
        self.width = width
        self._percent = -1

    def update(self, done: int) -> None:
        percent = 100 * done // self.total if self.total else 100
        if percent == self._percent:
            return
        self._percent = percent
        filled = self.width * done // self.total if self.total else self.width
        count = f"{done:>{len(str(self.total))}}/{self.total}"
        bar = "#" * filled + "." * (self.width - filled)
        self.write(f"\r{self.label} [{bar}] {count} {percent:>3}%")

    def finish(self) -> None:
        self.update(self.total)
        self.write("\n")
