# ruff: noqa: RUF001, RUF002 (the words and punctuation of a dozen languages and scripts)
"""The form a speaker's reply fills (contract §7): the title, abstract and bio under our labels.

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

from mailer.inbox.bodytext import text_of
from mailer.inbox.quotes import LONGEST, end_of_reply, quoted

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
LONGEST_FIRST = "|".join(sorted(_CLOSINGS.split("|"), key=len, reverse=True))
_CLOSING = re.compile(  # a closing, and maybe a name: "Best, Ann", "Best wishes from Ann"
    rf"(?i:{LONGEST_FIRST})(?P<between>[\s.!,，、。！~]*(?:(?i:from|von|från|de)\s+)?)"
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
    if len(line) > LONGEST:
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
    return len(line) <= LONGEST and bool(_PHOTO.fullmatch(_bare(line)))


def _name_line(line: str, names: frozenset[str]) -> bool:
    if len(line) > LONGEST:
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
        if quoted(line):
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
    lines = lines[: end_of_reply(lines)]
    labels = [
        (index, match)
        for index, line in enumerate(lines)
        if not quoted(line) and (match := _LABEL.match(line))
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
    return _fields(text_of(message), _names(parseaddr(sender)[0]))
