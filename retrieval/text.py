"""Text clean-up and sentence boundaries, shared by the loader, chunker and ranker."""

from __future__ import annotations

import re
import unicodedata

import ftfy

from retrieval.results import Span

_BOM = "\ufeff"
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "vs",
        "etc",
        "eg",
        "ie",
        "no",
        "mt",
        "ft",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "prof",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "est",
        "approx",
        "fig",
        "vol",
        "op",
        "nos",
        "rev",
        "hon",
    ]
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9À-ÖØ-Þ]")


def repair(text: str) -> str:
    """Repair mis-decoded text (mojibake), normalise Unicode to NFC and line ends to ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip(_BOM)
    # Only undo mis-decoding: leave correct typography (curly quotes, ligatures, widths) alone.
    text = ftfy.fix_text(
        text,
        normalization="NFC",
        uncurl_quotes=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
    )
    return text.replace(_BOM, "")


def clean(text: str) -> str:
    """Text from outside (a chat message, a command-line argument, a question file) as the
    core reads it: every input path goes through here.

    Bytes that were not UTF-8 reach Python as lone surrogates (the command line's
    ``surrogateescape``): they are read as Windows-1252, as a story file would be. Other lone
    surrogates (JSON can carry them) become U+FFFD; the model's tokenizer raises on them.
    Then mojibake is repaired and Unicode normalised as in stories (:func:`repair`).
    """
    if any("\udc80" <= c <= "\udcff" for c in text):
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            pass  # other lone surrogates too: replaced below
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return repair(text)


def fold(text: str) -> str:
    """Case-fold and strip accents, for matching names the way people type them."""
    if text.isascii():
        return text.lower()  # the same result, without decomposing anything
    return unicodedata.normalize("NFKD", text.casefold()).translate(_COMBINING_MARKS)


class _CombiningMarks(dict[int, int | None]):
    """A ``str.translate`` table dropping combining marks, filled as characters are met.

    str.translate drops them in C: a character-by-character filter in Python made folding
    whole stories (names, search terms) the slowest part of loading a corpus. Listing the
    marks among all 1.1 million code points up front cost 0.6 s of every start.
    """

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_COMBINING_MARKS = _CombiningMarks()


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of non-space characters."""
    return len(text.split())


def sentence_spans(text: str) -> list[Span]:
    """Split ``text`` into sentences; spans cover each sentence without surrounding space.

    Line breaks inside the text also end a sentence (lists, verse, headings).
    """
    spans: list[Span] = []
    for line_start, line in _lines(text):
        start = 0
        for match in _BOUNDARY.finditer(line):
            end = match.end()
            if not _NEXT_START.match(line, end) or _is_abbreviation(line, match.start()):
                continue
            _append(spans, line, line_start, start, end)
            start = end
        _append(spans, line, line_start, start, len(line))
    return spans


def _lines(text: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in text.split("\n"):
        out.append((offset, line))
        offset += len(line) + 1
    return out


_LAST_WORD = re.compile(r"(\w+)$")
_LONGEST_ABBREVIATION = max(map(len, _ABBREVIATIONS))


def _is_abbreviation(line: str, dot: int) -> bool:
    if line[dot] != ".":
        return False
    # Only the word before the dot matters: looking further back made a long line quadratic.
    word = _LAST_WORD.search(line, max(0, dot - _LONGEST_ABBREVIATION - 1), dot)
    if word is None:
        return False
    token = word.group(1)
    # Initials ("J. S. Bach") and known abbreviations do not end a sentence.
    return (len(token) == 1 and token.isupper()) or token.casefold() in _ABBREVIATIONS


def _append(spans: list[Span], line: str, base: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append(Span(base + start + lead, base + start + lead + len(stripped)))
