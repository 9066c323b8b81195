"""Just enough PDF reading to check the text WeasyPrint wrote (no pdftotext on every machine).

WeasyPrint embeds subsets of the fonts with Identity-H encoding and a ToUnicode map per font;
DejaVu Sans and DejaVu Sans Bold keep the same glyph ids, so one merged map decodes both.
"""

from __future__ import annotations

import re
import zlib

# A stream's dictionary (WeasyPrint writes its /Length as a number) and the start of its data.
_STREAM = re.compile(rb"<<((?:(?!>>).)*?/Length (\d+)\b(?:(?!>>).)*)>>\s*stream\r?\n", re.S)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_RANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_TEXT = re.compile(rb"\[(.*?)\]\s*TJ|<([0-9a-fA-F]+)>\s*Tj", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")


def _streams(pdf: bytes):
    """Each stream's data, exactly /Length bytes: compressed data may end in a carriage return,
    which a pattern looking for the line break before "endstream" would take away."""
    position = 0
    while match := _STREAM.search(pdf, position):
        start = match.end()
        position = start + int(match.group(2))
        data = pdf[start:position]
        if b"FlateDecode" in match.group(1):
            try:
                data = zlib.decompress(data)
            except zlib.error:
                continue
        yield data


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be")


def pdf_text(pdf: bytes) -> str:
    streams = list(_streams(pdf))
    glyphs: dict[int, str] = {}
    for data in streams:
        if b"begincmap" not in data:
            continue
        for block in _BFCHAR.findall(data):
            for code, text in _PAIR.findall(block):
                glyphs[int(code, 16)] = _utf16(text)
        for block in _BFRANGE.findall(data):
            for start, end, text in _RANGE.findall(block):
                first = ord(_utf16(text))
                for offset, code in enumerate(range(int(start, 16), int(end, 16) + 1)):
                    glyphs[code] = chr(first + offset)
    lines = []
    for data in streams:
        if b"TJ" not in data and b"Tj" not in data:
            continue
        for array, single in _TEXT.findall(data):
            chunks = _HEX.findall(array) if array else [single]
            text = ""
            for chunk in chunks:
                for i in range(0, len(chunk), 4):
                    text += glyphs.get(int(chunk[i : i + 4], 16), "?")
            lines.append(text)
    return "\n".join(lines)


def page_count(pdf: bytes) -> int:
    match = re.search(rb"/Type /Pages/Kids \[[^\]]*\]/Count (\d+)", pdf)
    if match:
        return int(match.group(1))
    for data in _streams(pdf):
        found = re.search(rb"/Type /Pages/Kids \[[^\]]*\]/Count (\d+)", data)
        if found:
            return int(found.group(1))
    return 0
