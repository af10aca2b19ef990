"""How a process that answers questions runs its threads: numpy's BLAS and the GIL.

A search multiplies small matrices: a few hundred sentence vectors by one or two
question vectors (:func:`retrieval.ranking.dense_scores`). OpenBLAS spreads such a
product over its threads, which then wait for the next one spinning, on the cores
the model's threads need. On the 2-core machine, squad-scale's warm ``search``
with one BLAS thread against two, alternating in one process: p50 3.72-6.08 ms
against 4.40-7.89 ms and CPU 8.6-13.0 ms a question against 11.0-17.2 ms, better
in each of four pairs (docs/BENCHMARKS.md, session 15).

Concurrent questions are answered by several threads (the event loop, the batcher's
worker, the encoder's lanes; :mod:`retrieval.batching`). A lane that finishes a model
run needs the GIL back to hand over its vector, and with Python's default switch
interval it could wait 5 ms for the thread holding it. At 1 ms, 64 seed chats were
answered at 270 questions/s against 249 (medians of ten alternating pairs in one
process, 1 ms ahead in all ten; 0.5 and 2 ms did as well as 1 ms; session 16).

A process that only builds (``artistbot index``) never calls :func:`for_questions` and
keeps every BLAS thread. A running bot's own updates (a story added from a chat) run
with the one thread too; their cost is the model embedding the story's sentences.
"""

from __future__ import annotations

import sys
from functools import cache

# BLAS threads once questions follow.
QUESTION_THREADS = 1
# Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).
SWITCH_INTERVAL = 0.001


@cache
def for_questions() -> None:
    """Run numpy's BLAS on :data:`QUESTION_THREADS` threads and switch the GIL every
    :data:`SWITCH_INTERVAL` seconds from now on, in this process.

    Once per process (setting it again would change nothing). Both belong to the
    process, not to a thread, so this is for a process that answers questions (the
    bots, the REPL, ``ask``, the evaluation), not a per-call setting.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=QUESTION_THREADS, user_api="blas")
    sys.setswitchinterval(SWITCH_INTERVAL)
