"""The Telegram handlers: python-telegram-bot updates to the chat layer and back.

Handlers only translate: an update becomes an :class:`~bot.chat.Incoming` or
:class:`~bot.chat.ActionRequest`, :class:`~bot.chat.ChatService` answers, and
:mod:`bot.telegram.render` turns the reply into HTML messages. Shared objects live
in ``application.bot_data`` (see :mod:`bot.telegram.app`); nothing is a module global.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import cast

from telegram import (
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ContextTypes,
)

from bot.chat import (
    ActionKind,
    ActionRequest,
    Attachment,
    ChatService,
    Incoming,
    Reply,
    command_named,
)
from bot.chat.texts import APOLOGY, BLANK, FORGED, NON_TEXT_HINT, button_label
from bot.settings import Settings
from bot.telegram.render import render_reply

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# Commands that search or re-read the stories: worth a "typing…" while they run.
_SLOW_COMMANDS = frozenset({"ask", "more", "reload", "addstory"})
# The command a document sent alone in a private chat runs.
ADD_STORY = "addstory"


# -- handlers ----------------------------------------------------------------------------------


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run a ``/command`` (any of the table's, ``@this_bot`` or not; see :func:`_command`)."""
    message = cast(Message, update.effective_message)
    await _command(update, context, message.text or "")


async def _command(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Run the command ``text`` starts with; one of no table's name gets the list of commands.

    Commands addressed to another bot (``/ask@other_bot``) get no reply, nor in groups an
    unknown bare one: a bare ``/weather`` there may well be meant for another bot. A file
    sent with the command (as its caption) or replied to comes along (see /addstory).
    """
    message = cast(Message, update.effective_message)
    first, *rest = text.split(maxsplit=1) or [""]
    name, _, target = first.lstrip("/").partition("@")
    args = rest[0] if rest else ""
    ours = (context.bot.username or "").lower()
    if target and target.lower() != ours:
        return
    if command_named(name) is None and not target and message.chat.type != ChatType.PRIVATE:
        return
    if name.lower() in _SLOW_COMMANDS:
        await _typing(update, context)
    incoming = replace(_incoming(update, context, args), attachment=_attachment(message))
    reply = await _chat(context).command(name, args, incoming)
    await _send(update, context, reply)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer any text in a private chat as a question."""
    message = cast(Message, update.effective_message)
    await _answer(update, context, message.text or "")


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it."""
    message = cast(Message, update.effective_message)
    text = _addressed_text(message, context)
    if text is not None:
        await _answer(update, context, text)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A caption under a photo or document is a question or a command, as text is; a
    document alone in a private chat is a story to add (/addstory); other non-text messages
    (stickers, uncaptioned photos) get a one-line hint."""
    message = cast(Message, update.effective_message)
    private = message.chat.type == ChatType.PRIVATE
    if message.caption and message.caption.startswith("/"):
        await _command(update, context, message.caption)
    elif private and message.document is not None and not message.caption:
        await _command(update, context, f"/{ADD_STORY}")
    elif message.caption:
        text = message.caption if private else _addressed_text(message, context)
        if text is not None:
            await _answer(update, context, text)
    elif private or _replies_to_bot(message, context):
        await message.reply_text(NON_TEXT_HINT)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle More / 👍 / 👎 under an answer, and Yes / Cancel / Undo about the stories;
    unknown or forged data gets a polite answer."""
    query = update.callback_query
    assert query is not None
    prefix, _, answer_id = (query.data or "").partition(":")
    kind = ActionKind.from_code(prefix)
    chat = update.effective_chat
    if kind is None or not answer_id or chat is None:
        await query.answer(FORGED)
        return
    user = query.from_user
    request = ActionRequest(kind, answer_id, str(chat.id), str(user.id), user.language_code)
    if kind.on_stories:  # what a change to the stories did is a message of its own
        await query.answer()
        await _typing(update, context)
        await _send(update, context, await _chat(context).act(request, platform=PLATFORM))
        return
    if kind is ActionKind.MORE:
        await _typing(update, context)
    reply = await _chat(context).act(request, platform=PLATFORM)
    if reply.is_answer:
        await query.answer()
        await _send(update, context, reply)
    else:
        await query.answer(reply.text)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback and apologise to the user; the bot keeps running."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(APOLOGY)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, APOLOGY)
    except TelegramError:
        log.warning("could not send the apology", exc_info=True)


# -- helpers -----------------------------------------------------------------------------------


def _chat(context: ContextTypes.DEFAULT_TYPE) -> ChatService:
    return cast(ChatService, context.bot_data["chat"])


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return cast(Settings, context.bot_data["settings"])


def _incoming(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> Incoming:
    user, chat = update.effective_user, update.effective_chat
    user_id = user.id if user else 0
    return Incoming(
        platform=PLATFORM,
        chat_id=str(chat.id if chat else user_id),
        user_id=str(user_id),
        text=text,
        # Telegram has no admins of its own for a bot: the configured ones may do everything.
        is_admin=user_id in _settings(context).telegram.admins,
        is_editor=user_id in _settings(context).telegram.admins,
        private=chat is not None and chat.type == ChatType.PRIVATE,
        language=user.language_code if user else None,
    )


def _attachment(message: Message) -> Attachment | None:
    """The document sent with ``message`` (its caption the command) or that it replies to."""
    for carrier in (message, message.reply_to_message):
        document = carrier.document if carrier is not None else None
        if document is not None:

            async def read(document: Document = document) -> bytes:
                file = await document.get_file()
                return bytes(await file.download_as_bytearray())

            return Attachment(document.file_name or "", document.file_size or 0, read)
    return None


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    await _typing(update, context)
    reply = await _chat(context).handle(_incoming(update, context, text))
    await _send(update, context, reply)


async def _typing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Send the rendered reply; the buttons go under its last message."""
    chat = update.effective_chat
    if chat is None:
        return
    chunks = render_reply(reply) or [BLANK]
    # In groups, quote the question so the answer is easy to follow (and to reply to).
    quote = update.message if chat.type != ChatType.PRIVATE else None
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        await context.bot.send_message(
            chat.id,
            chunk,
            parse_mode=ParseMode.HTML,
            reply_markup=_keyboard(reply) if last else None,
            reply_to_message_id=quote.message_id if quote and number == 0 else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.answer_id or not reply.actions:
        return None
    # Callback data is "<code>:<answer_id>", well within Telegram's 64 bytes; three buttons
    # share a phone's width, so each shows its emoji alone when it has one, else its words
    # in the reply's language.
    labels = [button_label(kind, reply.language) for kind in reply.actions]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label.emoji or label.text, callback_data=f"{kind.code}:{reply.answer_id}"
                )
                for kind, label in zip(reply.actions, labels, strict=True)
            ]
        ]
    )


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)


def _addressed_text(message: Message, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The question (text, or a caption) without the bot's mention, or ``None`` when the bot
    isn't addressed."""
    kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    if message.text is not None:
        text, entities = message.text, message.parse_entities(kinds)
    else:
        text, entities = message.caption or "", message.parse_caption_entities(kinds)
    username = (context.bot.username or "").lower()
    mentions = [
        (entity, value)
        for entity, value in entities.items()
        if (entity.type == MessageEntity.MENTION and value[1:].lower() == username)
        or (entity.user is not None and entity.user.id == context.bot.id)
    ]
    if not mentions and not _replies_to_bot(message, context):
        return None
    for _, value in mentions:
        text = text.replace(value, " ")
    return " ".join(text.split())
