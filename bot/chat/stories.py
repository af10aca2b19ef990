"""Stories managed from the chats (and ``artistbot stories``): list, add, replace, remove.

:class:`StoryDesk` is the chat layer's side: the file a command brought (fetched only
once the sender may add stories and its declared size fits), the questions asked
before anything is replaced or removed (answered with buttons), the preview of what
the bot understood, Undo, and the audit. Checking, writing, setting aside and
indexing are the core's (:meth:`retrieval.Retriever.add_story` and its siblings), run
off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.chat.messages import ActionKind, ActionRequest, Attachment, Incoming, Reply, ReplyKind
from bot.chat.pending import PendingSteps, Step
from bot.chat.storylog import StoryEvent, StoryLog
from bot.chat.storynames import parse_names, stories_named
from bot.chat.texts import (
    ADD_HOW,
    ADDED,
    ADDED_HINT,
    AMBIGUOUS_STORY,
    ASK_REMOVE,
    ASK_REPLACE,
    BUSY,
    FAILED,
    NAMES_HOW,
    NOT_ADDED,
    NOT_REMOVED,
    NOT_RENAMED,
    NOT_RESTORED,
    NOTE,
    REMOVED,
    RENAMED,
    REPLACED,
    RESTORED,
    SAMPLE,
    SAMPLE_NONE,
    TOO_BIG,
    UNDONE_ADD,
    UNKNOWN_STORY,
    file_size,
    stories_list,
    stories_total,
    story_names,
)
from retrieval import IndexBusy, Retriever, StoryChange, StoryExists, StoryInfo, StoryRejected

log = logging.getLogger(__name__)


class StoryDesk:
    """Story commands over one retriever; the audit goes to ``audit``."""

    def __init__(self, retriever: Retriever, audit: StoryLog, *, max_bytes: int) -> None:
        self.retriever = retriever
        self.audit = audit
        self.max_bytes = max_bytes
        self._steps = PendingSteps()

    # -- commands --------------------------------------------------------------------------

    async def listing(self, _: str, message: Incoming) -> Reply:
        """Every story: id, artist, band, title, size and when its file last changed."""
        stories = self.retriever.stories
        changed = await asyncio.to_thread(lambda: [_changed(s) for s in stories])
        return Reply(ReplyKind.INFO, stories_list(list(zip(stories, changed, strict=True))))

    async def add(self, _: str, message: Incoming) -> Reply:
        """Add the file that came with the message; one of an existing name asks first."""
        file = message.attachment
        if file is None:
            return Reply(ReplyKind.REFUSED, ADD_HOW)
        if file.size > self.max_bytes:  # declared too big: not even fetched
            return self._too_big(file, file.size)
        data = await file.read()
        if len(data) > self.max_bytes:
            return self._too_big(file, len(data))
        try:
            return await self._added(message, data, file.name, replace=False)
        except StoryExists as exists:

            async def replace() -> Reply:
                return await self._added(message, data, file.name, replace=True)

            return self._ask_replace(message, exists.story, file.name, replace)

    async def remove(self, name: str, message: Incoming) -> Reply:
        """Ask before removing the story ``name`` (its id, or the artist, band or alias of
        exactly one story)."""
        named = stories_named(self.retriever.stories, name)
        if not named:
            return Reply(ReplyKind.REFUSED, UNKNOWN_STORY.format(name=name))
        if len(named) > 1:
            ids = ", ".join(story.story_id for story in named)
            text = AMBIGUOUS_STORY.format(name=name, count=len(named), ids=ids)
            return Reply(ReplyKind.REFUSED, text)
        story = named[0]

        async def remove() -> Reply:
            return await self._removed(message, story)

        question = ASK_REMOVE.format(
            artist=story.artist, story_id=story.story_id, title=story.title
        )
        return self._steps.ask(message, question, remove)

    async def rename(self, text: str, message: Incoming) -> Reply:
        """Set who a story is about: ``<id> artist: …; band: …; aliases: …, …; title: …``."""
        story_id, _, fields = text.partition(" ")
        names = parse_names(fields)
        old = self.retriever.story(story_id)
        if old is None:
            return Reply(ReplyKind.REFUSED, UNKNOWN_STORY.format(name=story_id))
        if not names:
            return Reply(ReplyKind.REFUSED, NAMES_HOW)
        previous: dict[str, object] = {
            "artist": old.artist,
            "band": old.band or "",
            "aliases": list(old.aliases),
            "title": old.title,
        }

        async def rename(to: dict[str, object], undo: Step | None) -> Reply:
            change = await self._attempt(
                lambda: self.retriever.rename_story(story_id, to), NOT_RENAMED, story_id
            )
            if isinstance(change, Reply):
                return change
            return await self._preview(message, change, action="renamed", undo=undo)

        async def back() -> Reply:
            return await rename(previous, None)

        return await rename(names, back)

    async def restore(self, name: str, message: Incoming) -> Reply:
        """Put back the removed story file ``name`` (``artistbot stories restore``); one
        whose story is indexed again meanwhile asks first."""
        try:
            return await self._restored(message, name, replace=False)
        except StoryExists as exists:

            async def replace() -> Reply:
                return await self._restored(message, name, replace=True)

            return self._ask_replace(message, exists.story, name, replace)

    # -- buttons ---------------------------------------------------------------------------

    async def act(self, request: ActionRequest) -> Reply:
        """A press of Yes, Cancel or Undo: only by who asked, in that chat, in time."""
        return await self._steps.answer(request)

    # -- steps -----------------------------------------------------------------------------

    async def _added(self, message: Incoming, data: bytes, name: str, *, replace: bool) -> Reply:
        change = await self._attempt(
            lambda: self.retriever.add_story(data, name, replace=replace), NOT_ADDED, name
        )
        if isinstance(change, Reply):
            return change
        return await self._preview(message, change, action="replaced" if replace else "added")

    async def _restored(self, message: Incoming, name: str, *, replace: bool) -> Reply:
        change = await self._attempt(
            lambda: self.retriever.restore_story(name, replace=replace), NOT_RESTORED, name
        )
        if isinstance(change, Reply):
            return change
        await self._record(message, "restored", change)
        text = RESTORED.format(story_id=change.story.story_id)
        return Reply(ReplyKind.INFO, f"{text} {stories_total(change.stories)}")

    async def _removed(self, message: Incoming, story: StoryInfo) -> Reply:
        change = await self._attempt(
            lambda: self.retriever.remove_story(story.story_id), NOT_REMOVED, story.story_id
        )
        if isinstance(change, Reply):
            return change
        await self._record(message, "removed", change)
        text = REMOVED.format(story_id=story.story_id, artist=story.artist)
        return Reply(ReplyKind.INFO, f"{text} {stories_total(change.stories)}")

    async def _attempt(
        self, call: Callable[[], StoryChange], refusal: str, name: str
    ) -> StoryChange | Reply:
        """Run a change in the core off the event loop; what went wrong, as a reply.

        :class:`StoryExists` is the caller's to ask about. A failure while indexing left the
        corpus and the index as they were (see :meth:`retrieval.live.LiveIndex.edit`).
        """
        try:
            return await asyncio.to_thread(call)
        except StoryExists:
            raise
        except IndexBusy as busy:
            return Reply(ReplyKind.REFUSED, BUSY.format(reason=busy))
        except StoryRejected as exc:
            return Reply(ReplyKind.REFUSED, refusal.format(name=name, reason=exc))
        except Exception:
            log.exception("changing story %s failed; the corpus and the index are unchanged", name)
            return Reply(ReplyKind.REFUSED, FAILED.format(name=name))

    async def _preview(
        self, message: Incoming, change: StoryChange, *, action: str, undo: Step | None = None
    ) -> Reply:
        """What the bot understood: the names, the size, and one sample question answered."""
        await self._record(message, action, change)
        story = change.story
        said = {"added": ADDED, "replaced": REPLACED, "renamed": RENAMED}[action]
        first = said.format(story_id=story.story_id)
        question = f"Who is {story.artist}?"
        answer = await self.retriever.asearch(question, k=1)
        if answer.found:
            hit = answer.hits[0]
            citation = f"{hit.artist}'s story, “{hit.story.title}”"
            sample = SAMPLE.format(question=question, citation=citation, sentence=hit.sentence)
        else:
            sample = SAMPLE_NONE.format(question=question)
        lines = [
            first,
            *story_names(story),
            *(NOTE.format(note=note) for note in change.notes),
            sample,
            stories_total(change.stories),
            ADDED_HINT.format(story_id=story.story_id),
        ]
        undo = undo or self._undo_step(message, change)
        return self._steps.ask(message, "\n".join(lines), undo, actions=(ActionKind.UNDO,))

    def _undo_step(self, message: Incoming, change: StoryChange) -> Step:
        """Undo an add (remove the story again) or a replace (put the old version back)."""
        story = change.story

        async def undo() -> Reply:
            if change.replaced is not None:
                kept = Path(change.set_aside[0]).name
                return await self._restored(message, kept, replace=True)
            removed = await self._attempt(
                lambda: self.retriever.remove_story(story.story_id), NOT_REMOVED, story.story_id
            )
            if isinstance(removed, Reply):
                return removed
            await self._record(message, "removed", removed)
            return Reply(ReplyKind.INFO, UNDONE_ADD.format(story_id=story.story_id))

        return undo

    # -- helpers ---------------------------------------------------------------------------

    def _ask_replace(self, message: Incoming, old: StoryInfo, name: str, replace: Step) -> Reply:
        """ "Replace the story about …?", Yes running ``replace``."""
        question = ASK_REPLACE.format(
            artist=old.artist, story_id=old.story_id, title=old.title, name=name
        )
        return self._steps.ask(message, question, replace)

    def _too_big(self, file: Attachment, size: int) -> Reply:
        text = TOO_BIG.format(name=file.name, size=file_size(size), limit=file_size(self.max_bytes))
        return Reply(ReplyKind.REFUSED, text)

    async def _record(self, message: Incoming, action: str, change: StoryChange) -> None:
        story = change.story
        event = StoryEvent(
            platform=message.platform,
            user_id=message.user_id,
            action=action,
            story_id=story.story_id,
            file=Path(story.path).name,
            digest=change.digest,
        )
        await asyncio.to_thread(self.audit.record, event)
        log.info("story %s %s by %s:%s", story.story_id, action, message.platform, message.user_id)


def _changed(story: StoryInfo) -> str:
    """When the story's file last changed, in UTC to the minute."""
    try:
        stamp = Path(story.path).stat().st_mtime
    except OSError:
        return "?"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
