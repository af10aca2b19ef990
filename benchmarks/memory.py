"""Memory of this process, for the benchmark's figures."""

from __future__ import annotations

import resource


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    import psutil

    return round(float(psutil.Process().memory_info().rss) / 2**20, 1)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's ``ru_maxrss`` starts from the parent's resident size at fork (a tiny child of
    an 800 MB parent reports 813 MB), so the high-water mark of this program's own memory
    (``VmHWM``, reset by exec) is read where the system has it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except (OSError, ValueError):
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB
