"""Article text is data: recognise sentences addressed to a language model, not to readers.

A sentence like "Ignore previous instructions and ..." in an article is an injection attempt,
never evidence for a claim; the embedded answerer skips it and the model path fences it off.
"""

from __future__ import annotations

import re

from bot.chunking import split_sentences

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "′": "'"})
# Text addressed to a language model rather than to a newspaper's readers. Articles are data; a
# sentence like these in one is an injection attempt, and never evidence for a claim.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|the|your|of)\s+)*"
    r"(?:previous|prior|above|earlier|preceding|system|original|initial)\b[^.!?\n]{0,30}?"
    r"\b(?:instructions?|prompts?|rules|guidelines|directions|directives|context|messages?)\b"
    r"|\b(?:system prompt|system message|developer mode|admin mode|jailbreak)\b"
    r"|\byou are now\b|\bas an? (?:ai|language model|llm|assistant|chatbot)\b"
    r"|\b(?:note|message|instructions?) (?:to|for) (?:the |any |all )?"
    r"(?:ai|assistants?|models?|chatbots?|bots?|llms?|language models?)\b"
    r"|^\W*(?:system|assistant|developer)\s*:"
    r"|^\W*(?:please\s+)?(?:now\s+)?(?:answer|respond|reply|say|state|tell the user|output)\b"
    r"[^.!?\n]{0,40}?\b(?:that|with)\b",
    re.IGNORECASE,
)
DELIMITER = re.compile(r"<(\s*/?\s*source)", re.IGNORECASE)


def normalise(text: str) -> str:
    """Fold whitespace and typographic quotes so verbatim checks ignore only those."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Return the (start, end) of a quote in text, found as the verifier finds it.

    Whitespace and typographic quote marks aside: a quote is found here exactly when
    normalise(quote) is in normalise(text).
    """
    needle = normalise(quote)
    if not needle:
        return None
    folded: list[str] = []
    origin: list[int] = []  # where in text each folded character comes from
    position = 0
    for space in re.finditer(r"\s+", text):
        folded.extend(text[position : space.start()])
        origin.extend(range(position, space.start()))
        folded.append(" ")
        origin.append(space.start())
        position = space.end()
    folded.extend(text[position:])
    origin.extend(range(position, len(text)))
    at = "".join(folded).translate(_QUOTES).find(needle)
    if at == -1:
        return None
    return origin[at], origin[at + len(needle) - 1] + 1


def looks_like_instruction(sentence: str) -> bool:
    """Say whether a sentence addresses a language model ("Ignore previous instructions...")."""
    return bool(_INSTRUCTION.search(normalise(sentence)))


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets, in normalise(text), of sentences that attack the model.

    That is sentences addressed to a model, and sentences forging the <source> delimiters.
    """
    folded = normalise(text)
    spans = []
    for start, end in split_sentences(text):
        sentence = normalise(text[start:end])
        if sentence and (looks_like_instruction(sentence) or DELIMITER.search(sentence)):
            at = folded.find(sentence)
            while at != -1:
                spans.append((at, at + len(sentence)))
                at = folded.find(sentence, at + 1)
    return spans
