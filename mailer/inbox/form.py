# ruff: noqa: RUF001, RUF002 (the words and punctuation of a dozen languages and scripts)
"""The form a speaker's reply fills (SPEC 7): the title, abstract and bio under our labels.

A reply is read from its text/plain body, or from its text/html body turned into text (the
quoted mail in ``<blockquote>`` and Gmail's quote left out) when it has no plain text. Its
text ends where the mail it answers begins: a quote header in any of the languages below,
an Outlook header block, an ``-----Original Message-----`` or ``_____`` separator, a
signature delimiter (``-- ``) or a "Sent from my ..." line. Lines quoted with ``>`` end the
field they are in; a label on a quoted line is our own form quoted back, not an answer.

Each field runs from its label to the next label (ours, or the request's ``Date:`` and
``Location:``); the title is its first paragraph, on one line. The tail of a field is read
backwards and loses what is no part of it: a closing ("Best regards,", "Thanks!", "Mit
freundlichen Grüßen", "此致", "С уважением" ...) or a closing sentence ("Thanks for the
invitation!", "Let me know if ...") with the short name and signature lines after it, a
"Photo attached." line in any of those languages, a "P.S." paragraph, a lone name ("/Ann",
"– Fredrik", or the sender's own name). Only what matches such a pattern is dropped: a short
last paragraph that is a sentence of the bio stays.

Quote headers recognised (also wrapped over two or three lines): "On ... wrote:", "Am ...
schrieb ...:", "Le ... a écrit :", "Den ... skrev ...:", "... skrev:", "El ... escribió:",
"Il ... ha scritto:", "Op ... schreef ...:", "在 ... 写道：", "...写道：", "... に ... が書きまし
た：", "...さんは書きました：", "... пишет:", "... написал(а):", and a line with a date or time
and an address that ends with a colon (Gmail's headers in Japanese, Russian, Korean ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser

__all__ = ["answers", "fields_of"]

# The labels of the request's form (mailer/render/speakermail.py) and those speakers write.
_LABELS = {
    "title": "title",
    "abstract": "abstract",
    "about you": "bio",
    "about me": "bio",
    "bio": "bio",
    "biography": "bio",
    "about the speaker": "bio",
}
# The request's other labels: a reply that carries the request along ends a field there.
_OURS = ("date", "location")
_LABEL = re.compile(
    r"[ \t*_]*(?:[-•][ \t]+[*_]*)?"
    rf"(?P<name>{'|'.join(sorted(map(re.escape, [*_LABELS, *_OURS]), key=len, reverse=True))})"
    r"[ \t*_]*[:：](?:[ \t]*(?:\*{1,3}|_{1,3})(?=\s|$))?[ \t]*",
    re.IGNORECASE,
)
# Our own request's lines, which a reply that quotes without ">" may carry along.
_FORM_NOISE = re.compile(
    r"\s*(?:and attach a photo.*|attach a photo \(jpeg or png\)\.?)", re.IGNORECASE
)

# --- Where the reply ends: quote headers, header blocks, separators, signatures. ---

_LONGEST = 300  # no header, separator or closing is longer (and long lines cost regex time)

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_DATETIME = re.compile(
    r"(?<!\d)\d{1,2}:\d{2}(?!\d)|(?<!\d)\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d)"
    r"|\d{1,4}\s*年\s*\d{1,2}\s*月"
)
_INTRO = re.compile(r"(?:(?:On|Am|Le|Den|El|Il|Op|Em|W dniu)\b|在|於)", re.IGNORECASE)
_VERB_LAST = re.compile(
    r"(?:\b(?:wrote|writes|a\s+écrit|skrev|escribió|ha\s+scritto|schreef|escreveu|kirjoitti"
    r"|napisał(?:a|\(a\))?|пишет|написала?|написал\s*\([аa]\))"
    r"|写道|寫道|が書きました|は書きました)\s*[:：]$",
    re.IGNORECASE,
)
_VERB_INSIDE = re.compile(r"\b(?:schrieb|skrev|schreef)\b.+[:：]$", re.IGNORECASE)
_FROM = re.compile(
    r"[*_]*(?:from|von|de|från|fra|van|da|od|от|发件人|寄件者|差出人)[*_]*\s*[:：]", re.IGNORECASE
)
_HEADER = re.compile(
    r"[*_]*(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|skickat|till"
    r"|kopia|ämne|enviado|fecha|para|asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp"
    r"|отправлено|дата|кому|копия|тема|发送时间|日期|收件人|抄送|主题|寄件日期|收件者|主旨"
    r"|送信日時|宛先|件名)[*_]*\s*[:：]",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"-{2,}\s*(?:original message|message d'origine|ursprüngliche nachricht"
    r"|ursprungligt meddelande|mensaje original|messaggio originale|oorspronkelijk bericht"
    r"|forwarded message|weitergeleitete nachricht|message transféré|vidarebefordrat meddelande"
    r"|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|исходное сообщение"
    r"|пересылаемое сообщение|原始邮件|原始郵件|转发邮件|元のメッセージ|転送メッセージ)"
    r"\s*-{2,}"
    r"|_{16,}"
    r"|(?:begin forwarded message|anfang der weitergeleiteten nachricht"
    r"|début du message réexpédié|vidarebefordrat brev)\s*:",
    re.IGNORECASE,
)
_SENT_FROM = re.compile(
    r"(?:sent from my\b|sent from (?:outlook|mail|yahoo|samsung|proton)|get outlook for\b"
    r"|sent with proton\b|sent via\b|von meinem\b.*\bgesendet|gesendet von meinem\b"
    r"|envoyé de mon\b|envoyé depuis mon\b|skickat från min\b|enviado desde mi\b"
    r"|inviato da(?:l mio)?\b|verzonden (?:vanaf|met) mijn\b|发自我的|從我的.*傳送"
    r"|iphoneから送信|отправлено с\b)",
    re.IGNORECASE,
)


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_header(text: str, *, bare_allowed: bool) -> bool:
    """Whether one (joined) line is the header a client puts above the mail it quotes."""
    text = re.sub(r"\s+>", ">", re.sub(r"<\s+", "<", text)).strip(" *_")
    if len(text) > _LONGEST or not text.endswith((":", "：")):
        return False
    address, when = bool(_EMAIL.search(text)), bool(_DATETIME.search(text))
    if _VERB_LAST.search(text) or _VERB_INSIDE.search(text):
        # "Name wrote:" alone is one only above quoted lines ("As Feynman wrote:" is not).
        return bool(_INTRO.match(text)) or address or when or (bare_allowed and len(text) <= 80)
    return address and when


def _header_at(lines: list[str], index: int, quoted_after: list[bool]) -> bool:
    if not any(line.rstrip(" *_").endswith((":", "：")) for line in lines[index : index + 3]):
        return False
    first = lines[index].strip()
    for span in (1, 2, 3):
        chunk = lines[index : index + span]
        if len(chunk) < span or any(
            not line.strip() or _quoted(line) or len(line) > _LONGEST for line in chunk
        ):
            return False
        if span > 1 and (
            first.endswith((":", "："))
            or not (_INTRO.match(first) or _EMAIL.search(first) or _DATETIME.search(first))
        ):
            return False
        joined = " ".join(line.strip() for line in chunk)
        if _quote_header(joined, bare_allowed=quoted_after[index + span - 1]):
            return True
    return False


def _header_block_at(lines: list[str], index: int) -> bool:
    """Outlook's "From: / Sent: / To: / Subject:" block, in any of its languages."""
    if not _FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 8] if line.strip()][:4]
    return sum(bool(_HEADER.match(line)) for line in following) >= 2


def _end(lines: list[str]) -> int:
    """The index of the first line that is no longer the speaker's own text."""
    # For each line: whether the next non-blank line after it is quoted, or there is none.
    quoted_after = [True] * len(lines)
    for index in range(len(lines) - 2, -1, -1):
        following = lines[index + 1]
        quoted_after[index] = _quoted(following) if following.strip() else quoted_after[index + 1]
    for index, line in enumerate(lines):
        if _quoted(line):
            continue
        bare = line.strip()
        if len(bare) > _LONGEST:
            continue
        if bare == "--" or _SEPARATOR.fullmatch(bare):
            return index
        if _SENT_FROM.match(bare) and len(bare.split()) <= 10:
            return index
        if _header_block_at(lines, index) or _header_at(lines, index, quoted_after):
            return index
    return len(lines)


# --- What ends a field: closings, "photo attached", a lone name. ---

_CLOSINGS = (
    # English
    "best|best wishes|best regards|all the best|all best|kind regards|kindest regards"
    "|warm regards|warmest regards|warm wishes|regards|many thanks|thanks|thank you|thanks a lot"
    "|thanks again|thanks so much|thank you so much|thank you very much|thanks in advance"
    "|cheers|sincerely|yours sincerely|sincerely yours|yours truly|yours|with best wishes"
    "|with kind regards|with best regards|warmly|take care|bw|br|thx"
    # German
    "|mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|freundliche grüsse"
    "|viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse"
    "|herzliche grüße|herzliche grüsse|schöne grüße|grüße|gruß|mfg|vg|lg|danke|vielen dank"
    "|danke schön|herzlichen dank|besten dank"
    # French
    "|cordialement|bien cordialement|très cordialement|bien à vous|bien à toi|merci"
    "|merci beaucoup|merci d'avance|amitiés|amicalement|bien amicalement|salutations"
    "|sincères salutations|meilleures salutations|bonne journée|à bientôt"
    # Swedish
    "|med vänliga hälsningar|vänliga hälsningar|med vänlig hälsning|vänlig hälsning"
    "|hälsningar|hälsning|bästa hälsningar|varma hälsningar|mvh|tack|tack så mycket"
    "|stort tack|tusen tack|allt gott|ha det bra|vänligen"
    # Spanish, Italian, Dutch, Portuguese
    "|saludos|un saludo|saludos cordiales|un cordial saludo|cordiales saludos|atentamente"
    "|gracias|muchas gracias|un abrazo|cordialmente|cordiali saluti|saluti|distinti saluti"
    "|grazie|grazie mille|un saluto|met vriendelijke groet|met vriendelijke groeten"
    "|vriendelijke groet|vriendelijke groeten|hartelijke groet|hartelijke groeten|groeten"
    "|groet|bedankt|dank je wel|dank u wel|atenciosamente|obrigado|obrigada"
    # Chinese, Japanese, Russian
    "|此致|此致敬礼|敬礼|谢谢|谢谢您|多谢|祝好|顺祝商祺|感谢|非常感谢"
    "|よろしくお願いします|よろしくお願いいたします|よろしくお願い致します|宜しくお願いします"
    "|宜しくお願い致します|どうぞよろしくお願いします|どうぞよろしくお願いいたします"
    "|ありがとうございます|ありがとうございました|以上です|以上|敬具"
    "|с уважением|спасибо|большое спасибо|всего доброго|всего наилучшего"
    "|с наилучшими пожеланиями|с благодарностью"
)
_NAME_WORD = r"[^\W\d_][\w.'’-]*"
_LONGEST_FIRST = "|".join(sorted(_CLOSINGS.split("|"), key=len, reverse=True))
_CLOSING = re.compile(  # a closing, and maybe a name: "Best, Ann", "Best wishes from Ann"
    rf"(?i:{_LONGEST_FIRST})(?P<between>[\s.!,，、。！~]*(?:(?i:from|von|från|de)\s+)?)"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})?[\s.!,，。！~]*"
)
# Sentences of thanks and anticipation that close a mail.
_CLOSING_SENTENCE = re.compile(
    r"(?:(?:many |a lot of )?thanks?(?: you)?(?: (?:again|so much|very much|a lot))? for"
    r"|(?:i'?m |i am |we're |we are )?(?:really |very much )?looking forward to"
    r"|see you (?:soon|then|there|next|on|in|at)|(?:please )?let me know|sorry for the"
    r"|(?:i )?hope (?:this|that|it)(?:'s| is| helps| works| suffices)"
    r"|(?:vielen )?dank für|danke für"
    r"|ich freue mich auf|merci (?:pour|de)|au plaisir|tack för|ser fram emot|gracias por"
    r"|спасибо за)\b.{0,80}",
    re.IGNORECASE,
)
# A postscript: "P.S. ...", "PS: ...".
_POSTSCRIPT = re.compile(r"\s*[*_]*(?:p\.\s?s\.?|ps[:.,]|ps\s+-)", re.IGNORECASE)
_NOUN = (
    r"(?:(?:a|an|my|the|one|some)\s+)?(?:(?:recent|new|current|small|profile|high[- ]res"
    r"(?:olution)?)\s+)*(?:photo(?:graph)?s?|pictures?|pics?|head\s?shots?|portraits?|images?)"
    r"(?:\s+of\s+(?:me|myself))?"
)
_ATTACHED = r"(?:attached|enclosed|included)"
_AFTER = r"(?:\s+(?:below|too|as well|as requested|here|to this (?:mail|email|message)))?"
_PHOTO = re.compile(
    # English
    rf"{_NOUN}\s+(?:is\s+|are\s+)?{_ATTACHED}{_AFTER}"
    rf"|(?:(?:i|we)(?:'ve|\s+have|'m|\s+am)?\s+|here\s+is\s+|here's\s+)?"
    rf"(?:attach(?:ed|ing)?|enclos(?:ed|ing)|includ(?:ed|ing))\s*:?\s+(?:is\s+|are\s+"
    rf"|please\s+find\s+|you'?ll\s+find\s+)?{_NOUN}{_AFTER}"
    rf"|(?:please\s+)?(?:find|see)\s+(?:{_ATTACHED}\s+{_NOUN}|{_NOUN}\s+{_ATTACHED}){_AFTER}"
    rf"|here(?:'s|\s+is|\s+are)\s+{_NOUN}"
    # German
    r"|(?:ein\s+|mein\s+|das\s+)?(?:foto|bild|porträt)\s+(?:ist\s+)?"
    r"(?:anbei|im\s+anhang|angehängt|beigefügt)"
    r"|(?:anbei|im\s+anhang)\s+(?:ist\s+|findet\s+ihr\s+|finden\s+sie\s+)?"
    r"(?:ein|mein|das)\s+(?:foto|bild)"
    r"|ich\s+(?:habe\s+(?:ein|mein)\s+(?:foto|bild)\s+(?:angehängt|beigefügt)"
    r"|hänge\s+(?:ein|mein)\s+(?:foto|bild)\s+an)"
    # French
    r"|(?:une\s+|ma\s+|la\s+)?photo\s+(?:est\s+)?(?:ci-jointe?|ci\s+jointe?"
    r"|en\s+pi[eè]ce\s+jointe|jointe?)"
    r"|(?:ci-jointe?|ci\s+jointe?|vous\s+trouverez\s+ci-jointe?|je\s+(?:vous\s+)?joins|voici)"
    r"\s+(?:une|ma|la)\s+photo(?:\s+de\s+moi)?(?:\s+en\s+pi[eè]ce\s+jointe)?"
    # Swedish
    r"|(?:jag\s+)?bifogar\s+(?:ett\s+|en\s+|mitt\s+|min\s+)?(?:foto|bild|porträtt)"
    r"|(?:ett\s+|en\s+|mitt\s+|min\s+)?(?:foto|bild|porträtt)\s+(?:är\s+)?"
    r"(?:bifogat|bifogad|bifogas)"
    # Spanish, Italian, Dutch
    r"|(?:te\s+|le\s+|les\s+|os\s+)?adjunto\s+(?:una\s+|mi\s+)?(?:foto(?:graf[ií]a)?|imagen)"
    r"|(?:va\s+|van\s+)?(?:una\s+|mi\s+)?(?:foto(?:graf[ií]a)?|imagen)\s+(?:va\s+)?adjunta"
    r"|(?:una\s+|la\s+mia\s+)?foto\s+in\s+allegato|in\s+allegato\s+(?:una|la\s+mia)\s+foto"
    r"|allego\s+(?:una|la\s+mia)\s+foto"
    r"|(?:(?:ik\s+heb\s+)?een\s+)?foto\s+bijgevoegd|in\s+de\s+bijlage\s+(?:een|mijn)\s+foto"
    # Chinese, Japanese, Russian
    r"|我?附上了?(?:一张)?(?:我的)?(?:个人)?照片|(?:我的)?照片(?:见|在)附件[中里]?"
    r"|附件(?:是|为|中是)(?:我的)?(?:个人)?照片"
    r"|写真を添付(?:します|しました|いたします|致します)"
    r"|(?:моё\s+|мое\s+)?фото(?:графия)?\s+во?\s+вложении"
    r"|(?:прикладываю|прилагаю|отправляю)\s+(?:своё\s+|свое\s+|мою\s+)?фото(?:графию)?"
    r"|фото(?:графию)?\s+прилагаю",
    re.IGNORECASE,
)
_LONE_NAME = re.compile(rf"(?:[–—~/]|--?(?!\s))\s*(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})")


def _bare(line: str) -> str:
    """A line without its markup, bullets, "P.S." and closing punctuation."""
    text = " ".join(line.replace("’", "'").split()).strip("*_•()[] ")
    text = re.sub(r"(?i)^(?:p\.?\s?s\.?|n\.?b\.?)\s*[:,-]?\s*|^(?:and|also),?\s+", "", text)
    return text.rstrip(".!,;:)]。！ ").strip("*_ ")


def _capitalised(name: str | None) -> bool:
    return name is None or not any(word[0].islower() for word in name.split())


def _closing(line: str, names: frozenset[str], *, sentences: bool = True) -> bool:
    """A closing: "Best,", "Thanks!", "Best, Ann", "Thanks Ann" (from Ann), and, where
    ``sentences``, "Thanks for the invitation!" ("Best Practices for X" is none)."""
    if len(line) > _LONGEST:
        return False
    match = _CLOSING.fullmatch(" ".join(line.split()).strip("*_ "))
    if match:
        name = match["name"]
        if name is None:
            return True
        if _capitalised(name) and (match["between"].strip() or name.casefold() in names):
            return True
    text = _bare(line)
    return sentences and len(text.split()) <= 14 and bool(_CLOSING_SENTENCE.fullmatch(text))


def _photo_line(line: str) -> bool:
    return len(line) <= _LONGEST and bool(_PHOTO.fullmatch(_bare(line)))


def _name_line(line: str, names: frozenset[str]) -> bool:
    if len(line) > _LONGEST:
        return False
    text = " ".join(line.split())
    match = _LONE_NAME.fullmatch(text.rstrip(".,!"))
    if match and _capitalised(match["name"]):
        return True
    return text.strip("-–—~/ .,!").casefold() in names


def _short(line: str) -> bool:
    """A line a signature may have: a name, a position, a place, a number."""
    return len(line.split()) <= 10 and len(line.strip()) <= 80


def _closing_at(lines: list[str], names: frozenset[str], *, title: bool) -> int | None:
    """Where a closing starts that only a signature's short lines follow. A title's first
    line is never a sentence of thanks ("Looking forward to quantum computers")."""
    first = next((index for index, line in enumerate(lines) if line.strip()), 0)
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.strip():
            continue
        if _closing(line, names, sentences=not (title and index == first)):
            return index
        seen += 1
        if seen > 4 or not _short(line):
            return None
    return None


def _postscript_at(lines: list[str]) -> int | None:
    """Where the last paragraph's "P.S." starts (never on the field's first line)."""
    for index in range(len(lines) - 1, 0, -1):
        if not lines[index].strip():
            return None
        if _POSTSCRIPT.match(lines[index]):
            return index
    return None


def _trimmed(lines: list[str], names: frozenset[str], *, title: bool) -> list[str]:
    """A field's lines without the closing, signature, "photo attached" or name at its end."""
    lines = list(lines)
    while True:
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            return lines
        if _photo_line(lines[-1]) or _name_line(lines[-1], names):
            lines.pop()
            continue
        start = _postscript_at(lines)
        if start is None:
            start = _closing_at(lines, names, title=title)
        if start is None:
            return lines
        del lines[start:]


def _value(lines: list[str], names: frozenset[str], *, title: bool) -> str:
    kept: list[str] = []
    for line in lines:
        if _quoted(line):
            break
        if not _FORM_NOISE.fullmatch(line):
            kept.append(line)
    text = "\n".join(_trimmed(kept, names, title=title)).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _lines(text: str) -> list[str]:
    text = text.removeprefix("\ufeff").replace("\xa0", " ")
    return [line.rstrip() for line in re.split(r"\r\n|\r|\n", text)]


def _fields(text: str, names: frozenset[str]) -> dict[str, str]:
    lines = _lines(text)
    lines = lines[: _end(lines)]
    labels = [
        (index, match)
        for index, line in enumerate(lines)
        if not _quoted(line) and (match := _LABEL.match(line))
    ]
    found: dict[str, str] = {}
    for number, (index, match) in enumerate(labels):
        key = _LABELS.get(match["name"].lower())
        if key is None or key in found:
            continue
        stop = labels[number + 1][0] if number + 1 < len(labels) else len(lines)
        value = _value(
            [lines[index][match.end() :], *lines[index + 1 : stop]], names, title=key == "title"
        )
        if key == "title":  # its first paragraph, on one line
            value = " ".join(value.split("\n\n")[0].split())
        if value:
            found[key] = value
    return found


def fields_of(text: str) -> dict[str, str]:
    """The form's fields ("title", "abstract", "bio") a reply's plain text fills."""
    return _fields(text, frozenset())


# --- The text of a message. ---


class _HtmlText(HTMLParser):
    """An HTML body's text: blocks and ``<br>`` are line breaks, quoted mail is left out."""

    _SKIP = frozenset({"script", "style", "head", "title", "template", "blockquote"})
    _SKIP_CLASSES = frozenset(
        {"gmail_quote", "gmail_quote_container", "yahoo_quoted", "gmail_signature"}
    )
    _STOP_IDS = frozenset({"appendonsend", "divrplyfwdmsg"})  # Outlook: the quoted mail follows
    _BLOCKS = frozenset(
        {"div", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "section", "article",
         "header", "footer", "address", "center", "pre", "hr", "h1", "h2", "h3", "h4", "h5",
         "h6"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._newlines = -1  # the line breaks the text ends with; -1 before any text
        self._skipping: str | None = None
        self._depth = 0
        self._stopped = False
        self._pre = 0

    def _break(self, count: int) -> None:
        if 0 <= self._newlines < count:
            self.parts.append("\n" * (count - self._newlines))
            self._newlines = count

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skipping is not None:
            self._depth += tag == self._skipping
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        if (values.get("id") or "").lower() in self._STOP_IDS:
            self._stopped = True
        elif tag in self._SKIP or classes & self._SKIP_CLASSES:
            self._skipping, self._depth = tag, 1
        elif tag == "br":
            self.parts.append("\n")
            self._newlines = max(self._newlines, 0) + 1
        elif tag == "p":
            self._break(1 if "MsoNormal" in classes else 2)
        elif tag in self._BLOCKS:
            self._break(1)
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skipping is not None:
            self._depth -= tag == self._skipping
            if self._depth <= 0:
                self._skipping = None
            return
        if tag == "p" or tag in self._BLOCKS:
            self._break(1)
        if tag == "pre" and self._pre > 0:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._stopped or self._skipping is not None:
            return
        if not self._pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
            if self._newlines != 0:  # at the start of a line: no indentation
                data = data.lstrip(" ")
        if data:
            self.parts.append(data)
            stripped = data.rstrip("\n")
            self._newlines = (
                len(data) - len(stripped) if stripped else max(self._newlines, 0) + len(data)
            )


def _html_text(markup: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # markup html.parser gives up on: tags taken out
        return re.sub(r"<[^>]*>", " ", markup)
    return "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AttributeError):  # an unknown charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _text_of(message: EmailMessage) -> str:
    """The reply's text: its plain body, or its HTML body as text when it has none."""
    plain = message.get_body(("plain",))
    text = _content(plain) if isinstance(plain, EmailMessage) else ""
    if text.strip():
        return text
    markup = message.get_body(("html",))
    return _html_text(_content(markup)) if isinstance(markup, EmailMessage) else text


def _names(sender: str) -> frozenset[str]:
    """The ways a speaker signs with their name: whole, or by any word of it."""
    name = " ".join(sender.replace(",", " ").split())
    words = [word for word in name.split() if len(word) > 1]
    return frozenset(word.casefold() for word in (name, *words) if word)


def _header(message: EmailMessage, name: str) -> Iterable[str]:
    try:
        return [str(value) for value in message.get_all(name, [])]
    except (TypeError, ValueError, IndexError, MessageError):  # one the policy cannot parse
        return []


def answers(message: EmailMessage) -> dict[str, str]:
    """The form's fields ("title", "abstract", "bio") a reply fills, from its text."""
    sender = next(iter(_header(message, "From")), "")
    return _fields(_text_of(message), _names(parseaddr(sender)[0]))
