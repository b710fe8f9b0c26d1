"""A CSV's text encoding: the ones an import can be told to use, and the likely one of a file.

A file that is UTF-8 from end to end is read as UTF-8 (with or without its BOM). Any other
file is looked at by charset-normalizer, on its lines that have non-ASCII bytes (all that
tells one encoding from another): when Windows-1252 reads them as well as any encoding does,
the file is read as Windows-1252, as it always was; otherwise the import stops and says which
encoding the file likely is and how to import it (choose that encoding, or save the file as
CSV UTF-8). Nothing is ever read in a guessed encoding other than Windows-1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

#: the encodings an import can be told to use (name → what people call it), most used first
ENCODINGS: dict[str, str] = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Western European)",
    "mac-roman": "Mac Roman (Western European, older Macs)",
    "cp437": "DOS code page 437 (US)",
    "cp850": "DOS code page 850 (Western European)",
    "cp852": "DOS code page 852 (Central European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8-r": "KOI8-R (Russian)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp1257": "Windows-1257 (Baltic)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "cp874": "Windows-874 (Thai)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "shift_jis": "Shift JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "utf-16": "UTF-16",
}
#: how the import is told the encoding, for the messages
HOW_TO_CHOOSE = "--encoding on the command line, “Text encoding” on the import page"
#: bytes of non-ASCII lines the detector looks at
EVIDENCE = 64 * 1024
_CHUNK = 1024 * 1024
#: a detected encoding this much messier than the best one is not a match, in percent
_TOLERANCE = 0.5
_HIGH = re.compile(rb"[\x80-\xff]")
#: detected names read as the one the import offers (the same text in practice)
_SAME = {"gbk": "gb18030", "gb2312": "gb18030", "cp932": "shift_jis", "cp949": "euc_kr"}


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Windows-1252 leaves five bytes undefined: read them as Latin-1 does (as Excel shows)."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


#: the errors handler that reads Windows-1252 files: it never fails
CP1252_ERRORS = "keepscore-latin1"
codecs.register_error(CP1252_ERRORS, _latin1_fallback)


def encoding_name(name: str) -> str:
    """The codec's name as :data:`ENCODINGS` spells it; ValueError for an unknown name."""
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}: use one of {', '.join(ENCODINGS)}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"{name!r} is not a text encoding: use one of {', '.join(ENCODINGS)}")
    return _SAME.get(info.name, info.name)


def encoding_label(name: str) -> str:
    return ENCODINGS.get(name, name)


def utf8_first_bad_line(path: Path) -> int | None:
    """The line of the first bytes that are not UTF-8, or None: the whole file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return lines + error.object[: error.start].count(b"\n")
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines
    return None


@dataclass
class Evidence:
    """The file's lines with non-ASCII bytes (up to :data:`EVIDENCE` bytes of them)."""

    text: bytes = b""
    utf8_lines: int = 0  # of them, the ones that are UTF-8
    other_lines: int = 0

    def add(self, line: bytes) -> None:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            self.other_lines += 1
        else:
            self.utf8_lines += 1
        self.text += line + b"\n"

    @property
    def mostly_utf8(self) -> bool:
        """Most of the non-ASCII lines are UTF-8: the file is UTF-8 with damaged lines."""
        return self.utf8_lines > self.other_lines


def evidence_of(path: Path) -> Evidence:
    found = Evidence()
    rest = b""
    with path.open("rb") as raw:
        while len(found.text) < EVIDENCE:
            chunk = raw.read(_CHUNK)
            data = rest + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            data, rest = data[:cut], data[cut:]
            at = 0
            while len(found.text) < EVIDENCE and (match := _HIGH.search(data, at)):
                start = data.rfind(b"\n", 0, match.start()) + 1
                end = data.find(b"\n", match.end())
                end = len(data) if end < 0 else end
                found.add(data[start:end].rstrip(b"\r")[:EVIDENCE])
                at = end + 1
            if not chunk:
                break
    return found


@dataclass(frozen=True)
class Guess:
    """What the detector makes of the text: the likely encodings, most likely first."""

    likely: tuple[str, ...]
    cp1252_fits: bool


def encoding_guess(text: bytes) -> Guess:
    """The offered encodings that read ``text`` best (charset-normalizer), most likely first.

    Each offered encoding is tried on the text (``cp_isolation``: a thorough look at each,
    where an open search samples and may miss one). When none of them reads it, the open
    search may still name one the import does not offer.
    """
    offered = [name for name in ENCODINGS if name not in ("utf-8", "utf-16")]
    matches = from_bytes(text, cp_isolation=offered)
    best = matches.best()
    if best is None:
        anything = from_bytes(text).best()
        if anything is None:
            return Guess(likely=(), cp1252_fits=False)
        return Guess(likely=(_offered_name(anything.encoding),), cp1252_fits=False)
    likely: list[str] = []  # in charset-normalizer's order (mess, then coherence)
    for match in matches:
        if match.percent_chaos <= best.percent_chaos + _TOLERANCE:
            same = {_offered_name(n) for n in (match.encoding, *match.could_be_from_charset)}
            first = _offered_name(match.encoding)
            for name in [first, *(n for n in ENCODINGS if n in same and n != first)]:
                if name not in likely:
                    likely.append(name)
    return Guess(likely=tuple(likely), cp1252_fits="cp1252" in likely)


def _offered_name(name: str) -> str:
    try:
        return encoding_name(name)
    except ValueError:
        return name


RESAVE = "save the file as CSV UTF-8 (Excel: Save As, “CSV UTF-8”) and import it again"


def _ways(name: str, offers_choice: bool) -> str:
    if offers_choice:
        return f"choose the encoding {name} for the import ({HOW_TO_CHOOSE}), or {RESAVE}"
    return RESAVE


def encoding_problem(
    *,
    file: str,
    line: int,
    guess: Guess,
    evidence: Evidence | None = None,
    tried: str = "",
    offers_choice: bool = True,
) -> str:
    """One line: what is wrong with the file's text, its likely encoding, and the ways out."""
    if evidence is not None and evidence.mostly_utf8 and not tried:
        more = evidence.other_lines - 1
        others = f" and {more} more line{'s' if more > 1 else ''}" if more else ""
        return (
            f"{file} is UTF-8 text except at line {line}{others}, where bytes are not UTF-8 "
            f"(the file is damaged there, or mixes two encodings): correct those lines, or "
            f"{RESAVE}"
        )
    if tried:
        what = (
            f"{file} cannot be read as {encoding_label(tried)} (line {line} has bytes that are not)"
        )
    else:
        what = f"{file} is not UTF-8 or Windows-1252 text (line {line} has bytes that are not)"
    if not guess.likely:
        return f"{what}, and its encoding cannot be told (it may not be a text file): {RESAVE}"
    name = guess.likely[0]
    also = f" or {encoding_label(guess.likely[1])}" if len(guess.likely) > 1 else ""
    return f"{what}: it looks like {encoding_label(name)}{also}; {_ways(name, offers_choice)}"
