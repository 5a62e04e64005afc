"""Every sentence the bot itself writes to customers, in each supported language.

A test checks that each key exists in all of `SUPPORTED_LANGUAGES` with the same placeholders.
"""

from __future__ import annotations

from enum import StrEnum


class Text(StrEnum):
    GREETING = "greeting"
    HANDOFF_NOTICE = "handoff_notice"
    NO_ANSWER_TICKET = "no_answer_ticket"
    HOLDING = "holding"
    ATTACHMENT_TEXT_ONLY = "attachment_text_only"
    MESSAGE_TOO_LONG = "message_too_long"
    EMPTY_MESSAGE = "empty_message"
    TICKET_CLOSED = "ticket_closed"
    RATING_QUESTION = "rating_question"
    RATING_THANKS = "rating_thanks"
    AGENT_ASSIGNED = "agent_assigned"
    SENSITIVE_NOTICE = "sensitive_notice"
    DRAFT_PENDING = "draft_pending"
    AFTER_HOURS_NOTICE = "after_hours_notice"
    TEAM_BACK = "team_back"


CATALOG: dict[Text, dict[str, str]] = {
    Text.GREETING: {
        "en": "Hello! I'm the {company} assistant. How can I help you?",
        "de": "Hallo! Ich bin der Assistent von {company}. Wie kann ich Ihnen helfen?",
        "ru": "Здравствуйте! Я помощник {company}. Чем могу помочь?",
        "zh": "您好！我是{company}的智能助手。请问有什么可以帮您？",
        "fr": "Bonjour ! Je suis l'assistant de {company}. Comment puis-je vous aider ?",
        "es": "¡Hola! Soy el asistente de {company}. ¿En qué puedo ayudarle?",
    },
    Text.HANDOFF_NOTICE: {
        "en": "I've passed your conversation to our team. A person will reply here "
        "as soon as possible.",
        "de": "Ich habe Ihr Anliegen an unser Team weitergegeben. Ein Mitarbeiter "
        "antwortet Ihnen hier so bald wie möglich.",
        "ru": "Я передал ваш вопрос нашей команде. Сотрудник ответит вам здесь как можно скорее.",
        "zh": "我已将您的对话转给我们的人工客服，工作人员会尽快在这里回复您。",
        "fr": "J'ai transmis votre conversation à notre équipe. Un conseiller vous "
        "répondra ici dès que possible.",
        "es": "He pasado su conversación a nuestro equipo. Una persona le responderá "
        "aquí lo antes posible.",
    },
    Text.NO_ANSWER_TICKET: {
        "en": "I don't have a ready answer to that, so I've passed your question to our "
        "team. A person will reply here as soon as possible.",
        "de": "Darauf habe ich keine fertige Antwort, deshalb habe ich Ihre Frage an unser "
        "Team weitergegeben. Ein Mitarbeiter antwortet Ihnen hier so bald wie möglich.",
        "ru": "У меня нет готового ответа на этот вопрос, поэтому я передал его нашей "
        "команде. Сотрудник ответит вам здесь как можно скорее.",
        "zh": "这个问题我暂时没有现成的答案，已转给我们的人工客服，工作人员会尽快在这里回复您。",
        "fr": "Je n'ai pas de réponse toute prête à cette question, je l'ai donc transmise "
        "à notre équipe. Un conseiller vous répondra ici dès que possible.",
        "es": "No tengo una respuesta preparada para eso, así que he pasado su pregunta a "
        "nuestro equipo. Una persona le responderá aquí lo antes posible.",
    },
    Text.HOLDING: {
        "en": "Sorry, something went wrong on our side. Your message is saved and our team "
        "will get back to you here.",
        "de": "Entschuldigung, bei uns ist etwas schiefgelaufen. Ihre Nachricht ist "
        "gespeichert und unser Team meldet sich hier bei Ihnen.",
        "ru": "Извините, у нас что-то пошло не так. Ваше сообщение сохранено, и наша "
        "команда ответит вам здесь.",
        "zh": "抱歉，我们这边出了点问题。您的消息已保存，我们的团队会在这里回复您。",
        "fr": "Désolé, un problème est survenu de notre côté. Votre message est enregistré "
        "et notre équipe vous répondra ici.",
        "es": "Lo sentimos, algo ha fallado por nuestra parte. Su mensaje está guardado y "
        "nuestro equipo le responderá aquí.",
    },
    Text.ATTACHMENT_TEXT_ONLY: {
        "en": "Thank you, I've received your file. I can only read text myself, so I've "
        "shared it with our team.",
        "de": "Danke, ich habe Ihre Datei erhalten. Ich selbst kann nur Text lesen, deshalb "
        "habe ich sie an unser Team weitergegeben.",
        "ru": "Спасибо, я получил ваш файл. Сам я читаю только текст, поэтому передал "
        "его нашей команде.",
        "zh": "谢谢，已收到您的文件。我只能阅读文字，所以已把它转给我们的团队。",
        "fr": "Merci, j'ai bien reçu votre fichier. Je ne sais lire que du texte, je l'ai "
        "donc transmis à notre équipe.",
        "es": "Gracias, he recibido su archivo. Yo solo puedo leer texto, así que lo he "
        "compartido con nuestro equipo.",
    },
    Text.MESSAGE_TOO_LONG: {
        "en": "Your message is too long. Please keep it under {limit} characters.",
        "de": "Ihre Nachricht ist zu lang. Bitte bleiben Sie unter {limit} Zeichen.",
        "ru": "Сообщение слишком длинное. Пожалуйста, уложитесь в {limit} символов.",
        "zh": "您的消息太长了，请控制在{limit}个字符以内。",
        "fr": "Votre message est trop long. Merci de rester sous {limit} caractères.",
        "es": "Su mensaje es demasiado largo. Manténgalo por debajo de {limit} caracteres.",
    },
    Text.EMPTY_MESSAGE: {
        "en": "Your message is empty.",
        "de": "Ihre Nachricht ist leer.",
        "ru": "Ваше сообщение пустое.",
        "zh": "您的消息是空的。",
        "fr": "Votre message est vide.",
        "es": "Su mensaje está vacío.",
    },
    Text.TICKET_CLOSED: {
        "en": "Your request is now closed. If you need anything else, just write here.",
        "de": "Ihre Anfrage ist jetzt abgeschlossen. Wenn Sie noch etwas brauchen, schreiben "
        "Sie einfach hier.",
        "ru": "Ваш запрос закрыт. Если понадобится что-то ещё, просто напишите сюда.",
        "zh": "您的请求已处理完毕。如还有其他需要，请直接在这里留言。",
        "fr": "Votre demande est maintenant close. Si vous avez besoin d'autre chose, "
        "écrivez-nous simplement ici.",
        "es": "Su solicitud se ha cerrado. Si necesita algo más, escríbanos aquí.",
    },
    Text.RATING_QUESTION: {
        "en": "How satisfied are you with the help you received? Reply with a number from "
        "1 (not at all) to 5 (very satisfied).",
        "de": "Wie zufrieden sind Sie mit der Hilfe? Antworten Sie mit einer Zahl von "
        "1 (gar nicht) bis 5 (sehr zufrieden).",
        "ru": "Насколько вы довольны полученной помощью? Ответьте цифрой от 1 (совсем не "
        "доволен) до 5 (очень доволен).",
        "zh": "您对本次服务满意吗？请回复 1（很不满意）到 5（非常满意）之间的数字。",
        "fr": "Êtes-vous satisfait de l'aide reçue ? Répondez par un chiffre de 1 (pas du "
        "tout) à 5 (très satisfait).",
        "es": "¿Qué tan satisfecho está con la ayuda recibida? Responda con un número del "
        "1 (nada) al 5 (muy satisfecho).",
    },
    Text.RATING_THANKS: {
        "en": "Thank you for your feedback!",
        "de": "Vielen Dank für Ihre Bewertung!",
        "ru": "Спасибо за вашу оценку!",
        "zh": "感谢您的评价！",
        "fr": "Merci pour votre avis !",
        "es": "¡Gracias por su valoración!",
    },
    Text.AGENT_ASSIGNED: {
        "en": "{agent} from our team is now taking care of your request.",
        "de": "{agent} aus unserem Team kümmert sich jetzt um Ihr Anliegen.",
        "ru": "Вашим вопросом теперь занимается {agent} из нашей команды.",
        "zh": "我们团队的{agent}正在为您处理这个问题。",
        "fr": "{agent}, de notre équipe, s'occupe maintenant de votre demande.",
        "es": "{agent}, de nuestro equipo, se está ocupando ahora de su solicitud.",
    },
    Text.SENSITIVE_NOTICE: {
        "en": "This is something one of my colleagues needs to look at, so I've passed it to "
        "our team with priority. A person will reply here as soon as possible.",
        "de": "Darum muss sich ein Mitarbeiter kümmern, deshalb habe ich Ihr Anliegen mit "
        "Vorrang an unser Team weitergegeben. Jemand antwortet Ihnen hier so bald wie möglich.",
        "ru": "Этим должен заняться наш сотрудник, поэтому я передал ваш вопрос команде в "
        "приоритетном порядке. Вам ответят здесь как можно скорее.",
        "zh": "这个问题需要由我们的工作人员处理，我已将其优先转交给团队，"
        "工作人员会尽快在这里回复您。",
        "fr": "Un de mes collègues doit s'en occuper, j'ai donc transmis votre demande en "
        "priorité à notre équipe. Quelqu'un vous répondra ici dès que possible.",
        "es": "De esto tiene que ocuparse una persona de nuestro equipo, así que lo he "
        "pasado con prioridad. Alguien le responderá aquí lo antes posible.",
    },
    Text.DRAFT_PENDING: {
        "en": "I've prepared an answer for you; a colleague will check it and send it here "
        "shortly.",
        "de": "Ich habe eine Antwort vorbereitet; ein Mitarbeiter prüft sie und schickt sie "
        "Ihnen hier in Kürze.",
        "ru": "Я подготовил ответ; сотрудник проверит его и скоро пришлёт сюда.",
        "zh": "我已为您准备好答复，工作人员确认后会很快在这里发给您。",
        "fr": "J'ai préparé une réponse ; un collègue va la vérifier et vous l'envoyer ici "
        "très bientôt.",
        "es": "He preparado una respuesta; una persona del equipo la revisará y se la "
        "enviará aquí en breve.",
    },
    Text.AFTER_HOURS_NOTICE: {
        "en": "Our team is not available right now and is back {when}. I've passed your "
        "question on, and a person will reply here then.",
        "de": "Unser Team ist gerade nicht erreichbar und {when} wieder da. Ich habe Ihre "
        "Frage weitergegeben; dann antwortet Ihnen hier ein Mitarbeiter.",
        "ru": "Сейчас наша команда недоступна и вернётся {when}. Я передал ваш вопрос, и "
        "тогда сотрудник ответит вам здесь.",
        "zh": "我们的团队目前不在线，将于{when}回来。我已转交您的问题，"
        "届时工作人员会在这里回复您。",
        "fr": "Notre équipe n'est pas disponible pour le moment et sera de retour {when}. "
        "J'ai transmis votre question ; quelqu'un vous répondra ici à ce moment-là.",
        "es": "Nuestro equipo no está disponible ahora y vuelve {when}. He pasado su "
        "pregunta y una persona le responderá aquí entonces.",
    },
    Text.TEAM_BACK: {
        "en": "Our team is back {when}.",
        "de": "Unser Team ist {when} wieder für Sie da.",
        "ru": "Наша команда вернётся {when}.",
        "zh": "我们的团队将于{when}回来。",
        "fr": "Notre équipe sera de retour {when}.",
        "es": "Nuestro equipo vuelve {when}.",
    },
}


def render(key: Text, language: str | None, **values: object) -> str:
    """The text in `language`, English when that language is not served."""
    versions = CATALOG[key]
    template = versions.get(language or "en", versions["en"])
    return template.format(**values) if values else template
