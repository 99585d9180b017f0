# ruff: noqa: RUF001 (the words and punctuation of a dozen languages and scripts)
"""Where a reply's own text ends (contract §7): the quote header a mail client puts above the mail
it quotes, in a dozen languages, an Outlook header block, a separator, a signature delimiter,
or a "Sent from my ..." line. See :mod:`mailer.inbox.form` for the languages recognised."""

from __future__ import annotations

import re

__all__ = ["LONGEST", "end_of_reply", "quoted"]

LONGEST = 300  # no header, separator or closing is longer (and long lines cost regex time)

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


def quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_header(text: str, *, bare_allowed: bool) -> bool:
    """Whether one (joined) line is the header a client puts above the mail it quotes."""
    text = re.sub(r"\s+>", ">", re.sub(r"<\s+", "<", text)).strip(" *_")
    if len(text) > LONGEST or not text.endswith((":", "：")):
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
            not line.strip() or quoted(line) or len(line) > LONGEST for line in chunk
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


def end_of_reply(lines: list[str]) -> int:
    """The index of the first line that is no longer the speaker's own text."""
    # For each line: whether the next non-blank line after it is quoted, or there is none.
    quoted_after = [True] * len(lines)
    for index in range(len(lines) - 2, -1, -1):
        following = lines[index + 1]
        quoted_after[index] = quoted(following) if following.strip() else quoted_after[index + 1]
    for index, line in enumerate(lines):
        if quoted(line):
            continue
        bare = line.strip()
        if len(bare) > LONGEST:
            continue
        if bare == "--" or _SEPARATOR.fullmatch(bare):
            return index
        if _SENT_FROM.match(bare) and len(bare.split()) <= 10:
            return index
        if _header_block_at(lines, index) or _header_at(lines, index, quoted_after):
            return index
    return len(lines)


