"""Bytes to text: byte order marks, UTF-16 without one, legacy encodings, binary refused."""

from __future__ import annotations

import codecs
import math
import unicodedata

from charset_normalizer import from_bytes

from bot.errors import UnreadableArticle

_SNIFF_BYTES = 8192
_BINARY_SHARE = 0.10

_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BOMS = (codecs.BOM_UTF8, *_UTF32_BOMS, *_UTF16_BOMS)


def decode(data: bytes, name: str, charset: str | None = None) -> str:
    """Turn bytes into text, refusing empty and binary content; `charset` is a declared one."""
    if not data.strip():
        raise UnreadableArticle(name, "empty file")
    if charset and not data.startswith(_BOMS):
        try:
            return _checked(data.decode(charset), name)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declaration: guess as for a file
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith(_UTF32_BOMS):  # checked first: the UTF-32 LE BOM starts like UTF-16's
        text = data.decode("utf-32", errors="replace")
    elif data.startswith(_UTF16_BOMS):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:_SNIFF_BYTES]:
        encoding = _utf16_without_bom(data[:_SNIFF_BYTES])
        if encoding is None:
            raise UnreadableArticle(name, "binary file")
        text = data.decode(encoding, errors="replace")
    else:
        text = _decode_unmarked(data)
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    if _looks_binary(text[:_SNIFF_BYTES]):
        raise UnreadableArticle(name, "binary file")
    if not has_text(text):
        raise UnreadableArticle(name, "empty file")
    return text


_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})


def has_text(text: str) -> bool:
    """Say whether text holds a visible character (not just spaces, BOMs or zero-widths)."""
    return any(not char.isspace() and unicodedata.category(char) not in _INVISIBLE for char in text)


def _utf16_without_bom(sample: bytes) -> str | None:
    """Name the UTF-16 byte order of mostly-Latin text saved without a BOM, or None."""
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even = sample[0 : pairs * 2 : 2].count(0)
    odd = sample[1 : pairs * 2 : 2].count(0)
    # Latin text in UTF-16 has a zero in one half of nearly every pair and almost never in the
    # other; binary data has zeros scattered over both.
    if odd >= pairs * 0.6 and even <= pairs * 0.02:
        return "utf-16-le"
    if even >= pairs * 0.6 and odd <= pairs * 0.02:
        return "utf-16-be"
    return None


def _decode_unmarked(data: bytes) -> str:
    """Decode bytes without a BOM: UTF-8 if it mostly is, else charset_normalizer's guess."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = len(lenient) - len(lenient.encode("ascii", errors="ignore")) - bad
    # Real UTF-8 with a few broken bytes (a truncated scrape) keeps its many good sequences;
    # a legacy encoding has next to none, so guessing serves it better.
    if good >= bad:
        return lenient
    best = from_bytes(data[: 64 * 1024]).best()
    if best is None:
        return lenient
    try:
        return data.decode(best.encoding, errors="replace")
    except LookupError:
        return lenient


def _looks_binary(sample: str) -> bool:
    if not sample:
        return False
    odd = sum(
        1
        for char in sample
        if char == "\ufffd" or (unicodedata.category(char) == "Cc" and char not in "\t\n\r\f\v")
    )
    return odd / len(sample) > _BINARY_SHARE


def size_text(size: int, *, up: bool = False) -> str:
    """Describe a size in bytes or MB; `up` rounds up, so "21 MB > 20 MB" never reads "20 > 20"."""
    if size < 100 * 1024:
        return f"{size} bytes"
    tenths = size * 10 / (1024 * 1024)
    amount = f"{(math.ceil(tenths) if up else round(tenths)) / 10:.1f}".removesuffix(".0")
    return f"{amount} MB"
