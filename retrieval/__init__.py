"""The retrieval core of artistbot: stories in, relevant passages out.

No chat platform is imported here. The public surface::

    from retrieval import Retriever, RetrievalSettings
    retriever = Retriever.open(RetrievalSettings(corpus_dir=..., data_dir=...))
    answer = retriever.search("Who is the lead singer of Moonlight Serenaders?")
    answer = await retriever.asearch("Where was she born?", prefer_story=story_id)
"""

from retrieval.indexing import UpdateReport
from retrieval.library import IndexBusy, StoryExists, StoryRejected
from retrieval.results import Answer, Hit, Span, StoryChange, StoryInfo
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings

__all__ = [
    "Answer",
    "Hit",
    "IndexBusy",
    "RetrievalSettings",
    "Retriever",
    "Span",
    "StoryChange",
    "StoryExists",
    "StoryInfo",
    "StoryRejected",
    "UpdateReport",
]
