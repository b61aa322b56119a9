"""Crisis words: a message that contains one is answered with the crisis lines at once."""

from __future__ import annotations

from bot.dialogue.answers import normalise


class CrisisWords:
    """Tell whether a text signals a crisis; the text itself is never kept."""

    def __init__(self, words: list[str]) -> None:
        self.words = [normalise(w) for w in words]

    def found_in(self, text: str) -> bool:
        return self.found_in_plain(normalise(text))

    def found_in_plain(self, plain: str) -> bool:
        """Tell whether a normalised text holds a crisis word."""
        return any(word in plain for word in self.words)
