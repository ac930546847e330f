"""Bytes to text: encodings detected (BOM, UTF-8, UTF-16 without BOM, GB18030/GBK via
charset-normalizer); binary files and undecodable text refused with a message saying why."""

from __future__ import annotations

import re
import unicodedata

from charset_normalizer import from_bytes

from dadong_qa.text import CJK


class IngestError(ValueError):
    """A file that cannot become an article; the message says why, for the user."""


_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (docx/xlsx?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"\x7fELF": "an executable",
    b"\x1f\x8b": "a gzip archive",
}


def decode_bytes(data: bytes, name: str = "file") -> str:
    """Decode article bytes to text, or raise `IngestError` saying why not."""
    if not data.strip():
        raise IngestError(f"{name}: the file is empty")
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise IngestError(f"{name}: this is {what}, not a text article")
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(data[3:].decode("utf-8", errors="replace"), name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # errors="replace": a BOM followed by an odd byte count or a lone surrogate is damaged
        # or binary data, which the check below refuses with a message instead of a crash.
        return _checked(data.decode("utf-16", errors="replace"), name)
    if b"\x00" in data[:4096]:
        utf16 = _utf16_without_bom(data)
        text = data.decode(utf16, errors="replace") if utf16 else ""
        if text and not _looks_binary(text) and _mostly_chinese_or_ascii(text):
            return text
        raise IngestError(f"{name}: the file is binary (contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise IngestError(f"{name}: cannot determine the text encoding; save it as UTF-8 or GBK")
    encoding = best.encoding  # a Python codec name, e.g. "utf_16_be"
    family = encoding.lower().replace("_", "")
    # GB2312 and GBK are subsets of GB18030; decoding with the superset never loses characters.
    if family in {"gb2312", "gbk", "gb18030", "hz", "cp936"} or "gb" in family:
        encoding = "gb18030"
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        raise IngestError(f"{name}: cannot determine the text encoding; save it as UTF-8 or GBK") from None
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    if _looks_binary(text):
        raise IngestError(f"{name}: the file does not look like text in any known encoding")
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when NULs sit in every other byte, as in UTF-16 text without a BOM."""
    sample = data[:4096]
    if len(sample) < 4 or len(data) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # ASCII (newlines, digits) in UTF-16 puts NUL in the high byte: one side only. CJK text has
    # few NULs at all, and some on the other side (一 is U+4E00), hence a ratio, not zero.
    if odd >= 2 and even * 2 <= odd:
        return "utf-16-le"
    if even >= 2 and odd * 2 <= even:
        return "utf-16-be"
    return None


_PLAIN = re.compile(rf"[\t\n\r\x20-\x7e\u3000-\u303f{CJK}\uff00-\uffef\u2010-\u2027]")


def _mostly_chinese_or_ascii(text: str) -> bool:
    """Guessed UTF-16 must read as Chinese or ASCII text; binary decodes to scattered scripts."""
    sample = text[:5000]
    return len(_PLAIN.findall(sample)) >= 0.9 * len(sample)


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) in {"Cc", "Co", "Cs"} and ch not in "\n\r\t\f")
    bad += sample.count("\ufffd")
    return bad > max(8, len(sample) // 50)


# ---------------------------------------------------------------- line rules
