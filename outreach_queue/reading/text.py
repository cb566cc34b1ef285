"""The customer's own words of a reply: HTML turned to text, quoted history and signature cut off.

Quoted history is found by `mail-parser-reply` (the "On ... wrote:" / "Am ... schrieb:" / Outlook
"From: ... Sent:" headers of many languages). Two gaps of that library are filled here, and only
these: it has no Portuguese header ("Em ... escreveu:"), and it leaves ">"-quoted lines in place.
In HTML, the quote containers mail clients mark (`<blockquote>`, Gmail's `gmail_quote`, Outlook's
`divRplyFwdMsg`) are dropped before the text is read, so a quote is cut even without a header.
"""

import re
from html.parser import HTMLParser

from mailparser_reply import EmailMessage

MAX_TEXT_LENGTH = 2000  # SPEC: the reply's text is at most 2,000 characters
# Bounded before any parsing (STYLE: bound user input before working on it); a reply is read from
# its top, so nothing the customer wrote themselves is lost by this in practice.
MAX_INPUT_LENGTH = 100_000
# The languages of the SPEC that mail-parser-reply knows (English is always added by the library).
_PARSER_LANGUAGES = ["de", "fr", "es", "it", "nl"]
_PORTUGUESE_WROTE_HEADER = re.compile(r"^\s*(?:Em|No dia)\b[^\n]{0,200}\bescreveu:?\s*$", re.MULTILINE | re.I)
_QUOTED_LINE = re.compile(r"^\s*>")

_SKIPPED_TAGS = {"blockquote", "style", "script", "head", "title"}
_QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # >0 while inside a quote, style or script element

    def handle_starttag(self, tag, attrs):
        if tag in _VOID_TAGS:
            if not self._skip_depth and tag in _BLOCK_TAGS:
                self.parts.append("\n")
            return
        if self._skip_depth:
            self._skip_depth += 1
            return
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id")).lower()
        if tag in _SKIPPED_TAGS or any(marker in marks for marker in _QUOTE_MARKERS):
            self._skip_depth = 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _VOID_TAGS:
            return
        if self._skip_depth:
            self._skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of `html` without the quoted parts mail clients mark."""
    extractor = _TextExtractor()
    extractor.feed(html[:MAX_INPUT_LENGTH])
    extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _cut_portuguese_quote(text: str) -> str:
    match = _PORTUGUESE_WROTE_HEADER.search(text)
    return text[: match.start()] if match else text


def _drop_quoted_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not _QUOTED_LINE.match(line))


def reply_text(*, text: str, html: str = "") -> str:
    """The new part of a reply, at most MAX_TEXT_LENGTH characters.

    The plain body is preferred (it is what the sender's client wrote); the HTML one is read when the
    plain one is empty.
    """
    body = text[:MAX_INPUT_LENGTH] if text and text.strip() else html_to_text(html)
    if not body.strip():
        return ""
    message = EmailMessage(text=body, languages=list(_PARSER_LANGUAGES), keep_hyphen_lists=True).read()
    # The library yields no reply, or an empty one, for a body that is all signature; then the whole
    # body is the best reading of what the customer wrote.
    latest = (message.replies[0].body if message.replies else "") or body
    latest = _drop_quoted_lines(_cut_portuguese_quote(latest)).strip()
    return latest[:MAX_TEXT_LENGTH].strip()
