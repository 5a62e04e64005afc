"""Which questions must go to people at once, and which customers are upset.

Sensitive matters (data loss, a security incident, an outage, a billing dispute, legal
matters, threats) are never answered automatically. An angry or urgent tone raises the
priority of the ticket. Without a language model this is a lexicon in six languages plus
signs that need no language: shouting in capitals, a row of exclamation marks, angry
emoji. With a model configured, its own judgement (through `handoff_to_human`) comes on
top of this, never instead of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.types import TicketPriority

_SENSITIVE: dict[str, tuple[str, ...]] = {
    "security": (
        r"hacked",
        r"hack(?:ed|er|ing)? (?:my|into)",
        r"(?:someone|somebody) (?:logged|got) into",
        r"unauthori[sz]ed (?:access|login|log-in)",
        r"phishing",
        r"(?:account|password) (?:was |got )?(?:stolen|compromised)",
        r"gehackt",
        r"unbefugte?r? (?:zugriff|anmeldung)",
        r"konto (?:wurde )?übernommen",
        r"взлом\w*",
        r"украли (?:аккаунт|пароль|данные)",
        r"фишинг\w*",
        r"pirat[ée]e?",
        r"compte (?:volé|piraté|compromis)",
        r"hameçonnage",
        r"hackead[oa]",
        r"(?:me )?(?:robaron|han robado) (?:mi|la) cuenta",
        r"suplantación",
        "被盗",
        "盗号",
        "被黑",
        "黑客",
        "账号被",
    ),
    "data_loss": (
        r"(?:lost|deleted|wiped) (?:all )?(?:my |our )?(?:data|files|photos|documents)",
        r"data (?:loss|is gone|was deleted|disappeared)",
        r"daten (?:verloren|gelöscht|weg)",
        r"datenverlust",
        r"(?:потерял\w*|пропал\w*|удалил\w*) (?:все )?(?:данные|файлы)",
        r"данные (?:пропали|удалены|исчезли)",
        r"perte de données",
        r"données (?:perdues|supprimées|effacées)",
        r"(?:perdí|borraron|se borraron) (?:todos )?(?:mis )?(?:datos|archivos)",
        r"pérdida de datos",
        "数据丢失",
        "数据没了",
        "数据被删",
        "文件丢失",
    ),
    "outage": (
        r"outage",
        r"(?:site|service|app|website|server|system) is down",
        r"(?:nothing|everything) (?:works|is broken)",
        r"ausfall",
        r"störung",
        r"(?:geht|funktioniert) (?:gar )?nichts mehr",
        r"сбой",
        r"ничего не работает",
        r"(?:сервис|сайт|приложение) (?:упал|лежит|не работает)",
        r"panne",
        r"service (?:indisponible|en panne)",
        r"plus rien ne (?:marche|fonctionne)",
        r"caída del (?:servicio|sistema)",
        r"(?:servicio|sistema) caído",
        r"no funciona nada",
        "宕机",
        "服务中断",
        "崩了",
        "全部无法使用",
    ),
    "billing_dispute": (
        r"charged (?:me )?twice",
        r"double[- ]charged?",
        r"charge ?back",
        r"unauthori[sz]ed (?:charge|payment|transaction)",
        r"(?:doppelt|zweimal) (?:abgebucht|belastet|berechnet)",
        r"rückbuchung",
        r"falsch abgerechnet",
        r"списали (?:дважды|два раза|лишн\w*)",
        r"двойное списание",
        r"(?:débité|prélevé|facturé) deux fois",
        r"double (?:prélèvement|facturation)",
        r"prélèvement non autorisé",
        r"rétrofacturation",
        r"(?:cobrado|cobraron|me cobraron) dos veces",
        r"doble (?:cargo|cobro)",
        r"cargo no autorizado",
        r"contracargo",
        "重复扣款",
        "扣了两次",
        "多扣",
        "乱扣费",
    ),
    "legal": (
        r"lawyers?",
        r"attorneys?",
        r"(?:i will |i'll |going to )sue",
        r"lawsuit",
        r"legal action",
        r"anwalt|anwältin",
        r"(?:werde sie |euch )?verklagen",
        r"rechtliche schritte",
        r"abmahnung",
        r"адвокат\w*",
        r"(?:подам|обращусь) в суд",
        r"судебн\w*",
        r"avocat",
        r"poursuivre en justice",
        r"(?:porter )?plainte",
        r"abogad[oa]",
        r"(?:los )?(?:voy a )?denunciar",
        r"acciones legales",
        "律师",
        "起诉",
        "法院",
    ),
    "threat": (
        r"(?:i will|i'll|gonna) (?:kill|hurt) you",
        r"bomb",
        r"umbringen",
        r"bombe",
        r"убью",
        r"бомб\w*",
        r"(?:je vais )?vous tuer",
        r"(?:te|los|les) voy a matar",
        "杀了你",
        "炸弹",
    ),
}
_ANGRY = (
    r"furious",
    r"ridiculous",
    r"unacceptable",
    r"disgusting",
    r"terrible service",
    r"worst",
    r"scam",
    r"wtf",
    r"wütend",
    r"unverschämt",
    r"inakzeptabel",
    r"frechheit",
    r"lächerlich",
    r"sauer",
    r"безобрази\w*",
    r"возмутительн\w*",
    r"отвратительн\w*",
    r"бесит",
    r"furieux|furieuse",
    r"inadmissible",
    r"inacceptable",
    r"scandaleux",
    r"honteux",
    r"furios[oa]",
    r"inaceptable",
    r"vergüenza",
    r"estafa",
    r"pésimo",
    r"indignad[oa]",
    "太差",
    "垃圾",
    "气死",
    "愤怒",
    "骗子",
)
_URGENT = (
    r"urgent",
    r"urgently",
    r"asap",
    r"emergency",
    r"immediately",
    r"dringend",
    r"sofort",
    r"notfall",
    r"срочно",
    r"немедленно",
    r"immédiatement",
    r"tout de suite",
    r"urgente",
    r"inmediatamente",
    "紧急",
    "马上",
    "急",
)
_ANGRY_EMOJI = frozenset("😡🤬😠👿💢🖕")
_URGENT_PRIORITY = frozenset({"security", "outage", "threat"})
MIN_SHOUT_LETTERS = 8
SHOUT_SHARE = 0.7


def _latin(words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w.isascii() or not _has_han(w)]


def _han(words: tuple[str, ...]) -> list[str]:
    return [re.escape(w) for w in words if _has_han(w) and not w.isascii()]


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Latin and Cyrillic words match whole (lower-cased text: `IGNORECASE` costs twice the
    time); Chinese phrases match anywhere."""
    parts = []
    if latin := _latin(words):
        parts.append(r"(?<!\w)(?:" + "|".join(latin) + r")(?!\w)")
    if han := _han(words):
        parts.append("|".join(han))
    return re.compile("|".join(parts))


def _has_han(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


_SENSITIVE_PATTERNS = {category: _pattern(words) for category, words in _SENSITIVE.items()}
_ANGRY_PATTERN = _pattern(_ANGRY)
_URGENT_PATTERN = _pattern(_URGENT)
_LEXICON = tuple(word for words in (*_SENSITIVE.values(), _ANGRY, _URGENT) for word in words)
_ANY_LATIN_WORD = re.compile(r"(?<!\w)(?:" + "|".join(_latin(_LEXICON)) + r")(?!\w)")
"""Any word of any lexicon, in one pattern: one word-boundary test per position, where the
patterns one by one make ten. Most messages have none, and need no other search."""
_ANY_HAN_WORD = re.compile("|".join(_han(_LEXICON)))
_HAN = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Triage:
    sensitive: str | None = None
    """The sensitive category the message falls in, if any."""
    upset: bool = False
    urgent: bool = False

    @property
    def priority(self) -> TicketPriority:
        """The least priority a ticket for this message should have."""
        if self.sensitive in _URGENT_PRIORITY:
            return TicketPriority.URGENT
        if self.sensitive or self.upset or self.urgent:
            return TicketPriority.HIGH
        return TicketPriority.NORMAL


def triage(text: str) -> Triage:
    lowered = text.lower()
    if not _ANY_LATIN_WORD.search(lowered) and not (
        _HAN.search(lowered) and _ANY_HAN_WORD.search(lowered)
    ):
        return Triage(upset=_upset(text, angry_words=False))
    sensitive = next(
        (c for c, pattern in _SENSITIVE_PATTERNS.items() if pattern.search(lowered)), None
    )
    return Triage(
        sensitive=sensitive,
        upset=_upset(text, angry_words=bool(_ANGRY_PATTERN.search(lowered))),
        urgent=bool(_URGENT_PATTERN.search(lowered)),
    )


def _upset(text: str, *, angry_words: bool) -> bool:
    if angry_words or any(char in _ANGRY_EMOJI for char in text):
        return True
    if text.count("!") >= 3 or "?!" in text or "!?" in text:
        return True
    # Letters with case only (Chinese has none); counted in C.
    shouted = sum(map(str.isupper, text))
    cased = shouted + sum(map(str.islower, text))
    return cased >= MIN_SHOUT_LETTERS and shouted / cased >= SHOUT_SHARE


def raise_to(current: TicketPriority, floor: TicketPriority) -> TicketPriority:
    return current if current.rank >= floor.rank else floor
