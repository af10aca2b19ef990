"""A process's threads: every BLAS thread and Python's switch interval for a build; one
BLAS thread and a shorter interval once questions follow.

In a process of its own: both belong to the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from retrieval.settings import RetrievalSettings

# Opens the session's index as `artistbot index` does (no questions), then as a bot does.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from threadpoolctl import threadpool_info
    from retrieval import Retriever
    from retrieval.settings import RetrievalSettings

    def blas_threads():
        return {
            lib["filepath"]: lib["num_threads"]
            for lib in threadpool_info()
            if lib["user_api"] == "blas" and "numpy" in lib["filepath"]
        }

    def state():
        return [blas_threads(), sys.getswitchinterval()]

    settings = RetrievalSettings.model_validate_json(sys.argv[1])
    at_start = state()
    Retriever.open(settings, warm_queries=False).close()
    after_build = state()
    Retriever.open(settings).close()
    print(json.dumps([at_start, after_build, state()]))
    """
)


def test_a_process_that_answers_questions_runs_blas_on_one_thread_and_switches_sooner(
    retrieval_settings: RetrievalSettings,
) -> None:
    settings = retrieval_settings.model_copy(update={"multilingual": "off"})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, settings.model_dump_json()],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    at_start, after_build, answering = json.loads(done.stdout.strip().splitlines()[-1])
    assert at_start[0], "threadpoolctl found no BLAS library of numpy's"
    assert at_start[1] == 0.005  # Python's default
    assert after_build == at_start  # opening only to build leaves every thread, and the GIL
    assert set(answering[0].values()) == {1}
    assert answering[1] == 0.001
