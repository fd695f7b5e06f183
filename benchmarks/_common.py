"""Helpers shared by the benchmark scripts: machine description, JSON lines, memory."""

import json
import os
import platform
import threading
import time


def machine():
    """A one-line description of the machine the numbers come from."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_1min": round(load, 2),
    }


def emit(record):
    """Print one JSON line (the benchmark's output format)."""
    print(json.dumps(record), flush=True)


def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Sample this process's resident memory while a block runs.

    ``extra`` is the peak resident memory during the block minus the resident
    memory when it started, in bytes.
    """

    def __init__(self, interval=0.005):
        self.interval = interval

    def __enter__(self):
        self.start = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.extra = self.peak - self.start
