"""Progress reporting for long fits: tqdm when installed, plain lines otherwise."""

import sys
import time


class _PlainProgress:
    """Minimal stand-in for tqdm: one line per ~10 % of progress."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n = total, desc, 0
        self._start = time.perf_counter()
        self._last_decile = -1

    def update(self, n=1):
        self.n += n
        decile = int(10 * self.n / self.total) if self.total else 10
        if decile != self._last_decile:
            self._last_decile = decile
            elapsed = time.perf_counter() - self._start
            print(
                f"{self.desc}: {self.n}/{self.total} ({elapsed:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    def set_postfix_str(self, text):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _NoProgress(_PlainProgress):
    def update(self, n=1):
        self.n += n


def progress_bar(total, desc, verbose):
    """Return a progress bar object with ``update`` and ``close``.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label shown before the bar.
    verbose : int or bool
        ``0``/``False`` shows nothing; anything else shows a bar (tqdm when
        installed, plain lines on stderr otherwise).

    Returns
    -------
    bar : object
        Supports ``update(n)``, ``set_postfix_str(s)``, ``close()`` and use
        as a context manager.

    Examples
    --------
    >>> from skkernel.utils import progress_bar
    >>> with progress_bar(3, "fit", verbose=0) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    if not verbose:
        return _NoProgress(total, desc)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainProgress(total, desc)
    return tqdm(total=total, desc=desc, leave=False)
