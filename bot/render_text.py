"""Plain-text rendering of answers for the terminal (ask and the REPL)."""

from __future__ import annotations

from typing import Any

from bot.chat import PassageView, Reply
from retrieval import Answer

_HIGHLIGHT = "\033[1;33m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def render_answer(answer: Answer, *, colour: bool, scores: bool = False, first: int = 1) -> str:
    """All passages of an answer, or the reason there is none."""
    if not answer.found:
        return f"No answer: {answer.reason}."
    return "\n\n".join(
        render_passage(PassageView.from_hit(hit), first + i, colour=colour, scores=scores)
        for i, hit in enumerate(answer.hits)
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


def render_passage(passage: PassageView, number: int, *, colour: bool, scores: bool = False) -> str:
    """One passage with its best sentence highlighted and a citation line."""
    span, text = passage.best_sentence, passage.text
    if colour:
        body = f"{text[: span.start]}{_HIGHLIGHT}{span.of(text)}{_RESET}{text[span.end :]}"
    else:
        body = f"{text[: span.start]}»{span.of(text)}«{text[span.end :]}"
    cite = f"— {passage.citation} (score {passage.score:.3f})"
    if scores:
        cite += f"  dense {passage.dense_score:.3f}  bm25 {passage.lexical_score:.2f}"
    if colour:
        cite = f"{_DIM}{cite}{_RESET}"
    return f"[{number}] {body}\n    {cite}"


def render_reply(reply: Reply, *, colour: bool, scores: bool = False, first: int = 1) -> str:
    """A chat-layer reply for the terminal: its text, then its passages."""
    parts = [reply.text] if reply.text else []
    parts += [
        render_passage(p, first + i, colour=colour, scores=scores)
        for i, p in enumerate(reply.passages)
    ]
    return "\n\n".join(parts)
