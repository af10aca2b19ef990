"""Plain-text rendering of answers for the terminal (ask and the REPL)."""

from __future__ import annotations

from typing import Any

from retrieval import Answer, Hit

_HIGHLIGHT = "\033[1;33m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def render_hit(hit: Hit, number: int, *, colour: bool, scores: bool = False) -> str:
    """One passage with its best sentence highlighted and a citation line."""
    span = hit.best_sentence
    if colour:
        body = f"{hit.text[:span.start]}{_HIGHLIGHT}{span.of(hit.text)}{_RESET}{hit.text[span.end:]}"
    else:
        body = f"{hit.text[:span.start]}»{span.of(hit.text)}«{hit.text[span.end:]}"
    cite = f"— {hit.artist}, “{hit.story.title}” (score {hit.score:.3f})"
    if scores:
        cite += f"  dense {hit.dense_score:.3f}  bm25 {hit.lexical_score:.2f}"
    if colour:
        cite = f"{_DIM}{cite}{_RESET}"
    return f"[{number}] {body}\n    {cite}"


def render_answer(answer: Answer, *, colour: bool, scores: bool = False, first: int = 1) -> str:
    """All passages of an answer, or the reason there is none."""
    if not answer.found:
        return f"No answer: {answer.reason}."
    return "\n\n".join(
        render_hit(hit, first + i, colour=colour, scores=scores) for i, hit in enumerate(answer.hits)
    )


def answer_json(answer: Answer) -> dict[str, Any]:
    """A JSON-ready view of an answer."""
    return {
        "question": answer.question,
        "found": answer.found,
        "reason": answer.reason,
        "mentioned": [s.artist for s in answer.mentioned],
        "hits": [
            {
                "artist": h.artist,
                "story": h.story.title,
                "story_id": h.story.story_id,
                "score": round(h.score, 4),
                "dense": round(h.dense_score, 4),
                "bm25": round(h.lexical_score, 4),
                "text": h.text,
                "best_sentence": h.sentence,
            }
            for h in answer.hits
        ],
    }
