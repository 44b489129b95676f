"""Which language a text is in, as far as this bot needs to know: Korean (any Hangul) or English.

A question such as "LIG Nex1 신제품 발표는 어디서 했어?" is Korean even though it names an English company:
its reader wants Korean. Korean text is split, tokenized and embedded by the Korean-capable tools
(`index/content/korean.py`, `index/models/multilingual.py`); everything else keeps the English path unchanged.
"""

from __future__ import annotations

import re

KOREAN = "ko"
ENGLISH = "en"
LANGUAGES = (ENGLISH, KOREAN)

# Hangul syllables, jamo and compatibility jamo.
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def language_of(text: str) -> str:
    """KOREAN when the text holds any Hangul, else ENGLISH."""
    return KOREAN if has_hangul(text) else ENGLISH
