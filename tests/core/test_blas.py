"""numpy's BLAS threads: all of them for a build, one once questions follow.

In a process of its own: the thread count belongs to the process.
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

    settings = RetrievalSettings.model_validate_json(sys.argv[1])
    at_start = blas_threads()
    Retriever.open(settings, warm_queries=False).close()
    after_build = blas_threads()
    Retriever.open(settings).close()
    print(json.dumps([at_start, after_build, blas_threads()]))
    """
)


def test_a_process_that_answers_questions_runs_blas_on_one_thread(
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
    assert at_start, "threadpoolctl found no BLAS library of numpy's"
    assert after_build == at_start  # opening only to build leaves every thread
    assert set(answering.values()) == {1}
