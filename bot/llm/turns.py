"""The message list both APIs accept: starting with the customer, speakers alternating.

Two customer messages in a row (the second sent before we answered) become one turn;
a conversation that starts with our greeting drops it, since both APIs want the customer
to speak first.
"""

from __future__ import annotations

from bot.llm.types import ChatTurn, LLMRequest, Speaker


def conversation_turns(request: LLMRequest) -> list[ChatTurn]:
    turns: list[ChatTurn] = []
    for turn in (*request.history, ChatTurn(Speaker.CUSTOMER, request.question)):
        text = turn.text.strip()
        if not text or (not turns and turn.speaker is not Speaker.CUSTOMER):
            continue
        if turns and turns[-1].speaker is turn.speaker:
            turns[-1] = ChatTurn(turn.speaker, f"{turns[-1].text}\n\n{text}")
        else:
            turns.append(ChatTurn(turn.speaker, text))
    return turns
