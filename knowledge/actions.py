"""What a message asks to do with a thing: cancel it, create it, change it or show it.

Requests about one object are close in every similarity measure: "set an alarm for 7"
and "delete my 7 o'clock alarm" share their topic, most of their words and, to an
embedding model, most of their meaning. The verb is the part that decides, and an FAQ
answer about deleting alarms does not help a customer who wants to set one. The matcher
therefore compares the action words of a message with those of the entry it matched
(`knowledge.faq`): when both name actions and none of them agree, the match contradicts
the message, as a disagreement on "not" does.

The lexicons hold the imperative and infinitive forms customers type, and the nouns that
name the same request ("cancellation", "Stornierung"), in the six languages; accent-free
spellings match too. Chinese verbs are two-character words, found as adjacent characters.
Words that are mostly nouns of another sense in support messages ("order", "schedule",
"open", "programme", Spanish "cambio") are left out: a missed action costs nothing, a
false one declines a right answer.
"""

from __future__ import annotations

from knowledge.text import is_han, strip_accents

_ACTION_WORDS: dict[str, dict[str, str]] = {
    "cancel": {
        "en": """cancel cancels cancelled canceled cancelling canceling cancellation delete
            deleted deleting deletion remove removed removing removal erase unsubscribe
            deactivate disable""",
        "de": """lösche löschen lösch löscht löschung entferne entfernen entfern entfernt
            storniere stornieren stornierung kündige kündigen kündigung streiche streichen
            deaktiviere deaktivieren abbestellen abbrechen abmelden ausschalten abschalten""",
        "ru": """отмени отменить отмените отменяю отмена отмену удали удалить удалите удаление
            убери убрать уберите выключи выключить отключи отключить отключите отписаться""",
        "fr": """annule annuler annulez annulation supprime supprimer supprimez suppression
            retire retirer retirez résilie résilier résiliation efface effacer désactive
            désactiver""",
        "es": """cancela cancelar cancele cancelo cancelación anula anular anulación borra
            borrar borre borro elimina eliminar elimine elimino eliminación quita quitar quite
            desactiva desactivar""",
        "zh": "取消 删除 删掉 移除 去掉 关掉 退订 注销",
    },
    "create": {
        "en": "set create created creating add added adding book activate enable",
        "de": """stelle stell stellen setze setz setzen erstelle erstell erstellen füge fügen
            hinzufügen hinzu buche buchen reserviere reservieren aktiviere aktivieren
            einrichten einstellen anlegen""",
        "ru": """поставь поставить поставьте установи установить установите создай создать
            создайте добавь добавить добавьте заведи завести включи включить активируй
            активировать забронируй забронировать запланируй запланировать""",
        "fr": """mets mettre mettez règle régler réglez crée créer créez ajoute ajouter ajoutez
            programmer active activer activez réserver réservez planifier""",
        "es": """pon poner ponga establece establecer crea crear añade añadir agrega agregar
            agregue programar activa activar reservar configura configurar""",
        "zh": "设置 设定 创建 新建 添加 预订 预定 开通 激活",
    },
    "change": {
        "en": "change changed changing modify modified update updated edit reschedule",
        "de": """ändere ändern änder ändert verschiebe verschieben aktualisiere aktualisieren
            bearbeite bearbeiten umstellen umbuchen""",
        "ru": """измени изменить измените поменяй поменять перенеси перенести перенесите
            обнови обновить исправь исправить смени сменить""",
        "fr": """change changer changez modifie modifier modifiez modification déplace déplacer
            déplacez""",
        "es": """cambia cambiar cambie modifica modificar modifique modifico mueve mover
            actualiza actualizar edita editar""",
        "zh": "修改 更改 改成 改为 调整 变更",
    },
    "show": {
        "en": "show display view list read",
        "de": "zeige zeig zeigen anzeigen liste auflisten lies vorlesen",
        "ru": "покажи показать покажите выведи список прочитай прочитать",
        "fr": "montre montrer montrez affiche afficher affichez liste lister lis lire",
        "es": "mostrar muéstrame muestrame enseña enseñar lista listar lee leer",
        "zh": "显示 查看 看看 列出 展示",
    },
}


def _lexicon() -> dict[str, frozenset[str]]:
    """Every listed word, and its accent-free spelling, to the actions it names."""
    found: dict[str, set[str]] = {}
    for action, languages in _ACTION_WORDS.items():
        for words in languages.values():
            for word in words.split():
                for spelling in (word, strip_accents(word)):
                    found.setdefault(spelling, set()).add(action)
    return {word: frozenset(actions) for word, actions in found.items()}


_LEXICON = _lexicon()
_NONE: frozenset[str] = frozenset()


def actions(tokens: list[str]) -> frozenset[str]:
    """The actions a tokenised text names (see `knowledge.text.tokenize`)."""
    found: set[str] = set()
    previous = ""
    for token in tokens:
        han = len(token) == 1 and is_han(token)
        if han:
            named = _LEXICON.get(previous + token) if previous else None
            previous = token
        else:
            named = _LEXICON.get(token) or _LEXICON.get(strip_accents(token))
            previous = ""
        if named:
            found.update(named)
    return frozenset(found) if found else _NONE


def disagree(asked: frozenset[str], offered: frozenset[str]) -> bool:
    """True when both name actions and none is shared: the entry does something else."""
    return bool(asked) and bool(offered) and asked.isdisjoint(offered)
