"""The buttons under an answer: one short code per action, the same on every platform."""

from __future__ import annotations

from bot.chat import ActionKind, texts


def test_each_action_has_its_own_one_letter_code_that_reads_back() -> None:
    codes = [kind.code for kind in ActionKind]
    assert len(set(codes)) == len(codes) and all(len(code) == 1 for code in codes)
    assert all(ActionKind.from_code(kind.code) is kind for kind in ActionKind)
    for forged in ("", "x", "more", "mm", "M"):
        assert ActionKind.from_code(forged) is None


def test_every_action_has_a_label() -> None:
    assert set(texts.BUTTONS) == set(ActionKind)
    assert all(label.text for label in texts.BUTTONS.values())
