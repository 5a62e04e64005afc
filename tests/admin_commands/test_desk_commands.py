"""Looking things up from the agents' chat: lists, cards, history, tags, presence, help."""

from __future__ import annotations

from storage import models
from tests.admin_commands.desk import ask, hand_off, posted_in_topic
from tests.conftest import TelegramWorld
from tests.telegram_updates import button_press

ANNA, BORIS, CHEN = 811, 812, 813


async def three_customers(world: TelegramWorld) -> tuple[int, int, int]:
    anna = await hand_off(world, ANNA, name="Anna")
    boris = await hand_off(world, BORIS, name="Boris", language="ru")
    chen = await hand_off(world, CHEN, name="Chen", language="zh")
    return anna, boris, chen


async def test_tickets_lists_filter_and_sort_most_urgent_first(telegram: TelegramWorld) -> None:
    anna, boris, _ = await three_customers(telegram)
    await ask(telegram, "/priority urgent", thread=boris)
    await ask(telegram, "/assign me", thread=anna)
    await ask(telegram, "/online", admin=True)
    await ask(telegram, "/assign @max_admin #3")

    listed = (await ask(telegram, "/tickets")).splitlines()
    assert listed[0] == "Open tickets: 3"
    assert [line.split()[0] for line in listed[1:]] == ["#2", "#1", "#3"]
    assert listed[1].startswith("#2 urgent · open · unassigned · Boris (telegram) · ")
    assert "@li_support" in listed[2] and "I want to talk to a human" in listed[2]

    assert (await ask(telegram, "/tickets mine")).splitlines()[1:2] == [listed[2]]
    mine = await ask(telegram, "/tickets mine", admin=True)
    assert mine.splitlines()[0] == "Your tickets: 1" and "#3" in mine
    unassigned = await ask(telegram, "/tickets unass")
    assert unassigned.splitlines()[0] == "Unassigned tickets: 1" and "#2" in unassigned
    urgent = await ask(telegram, "/tickets urgent")
    assert urgent.splitlines()[0] == "Urgent tickets: 1"
    of_li = await ask(telegram, "/list @li_support")
    assert of_li.splitlines()[0] == "Tickets of @li_support: 1"
    assert await ask(telegram, "/tickets @ghost") == "No agent @ghost; /agents lists them."
    assert await ask(telegram, "/tickets everything") == (
        "filter must be one of open, mine, unassigned, urgent, not 'everything'. "
        "Usage: /tickets [open|mine|unassigned|urgent|@agent]"
    )

    await ask(telegram, "/close", thread=anna)
    assert (await ask(telegram, "/tickets")).splitlines()[0] == "Open tickets: 2"
    assert await ask(telegram, "/tickets mine") == "Your tickets: none."


async def test_ticket_shows_details_and_history(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, ANNA)
    await ask(telegram, "/assign me", thread=thread)
    await ask(telegram, "/priority high", thread=thread)
    await ask(telegram, "/note waiting for the courier", thread=thread)

    card = (await ask(telegram, "/ticket", thread=thread)).splitlines()
    assert card[0] == "Ticket #1 · in_progress · high priority"
    assert card[1] == "Customer: Anna (telegram)"
    assert card[2] == "Assignee: @li_support"
    assert card[3] == "Subject: I want to talk to a human"
    assert card[4].startswith("Opened ") and "UTC" in card[4]
    assert "Automation: human" in card[5]
    history = card[card.index("History:") + 1 :]
    assert "opened (customer asked for a person)" in history[0]
    assert history[1].endswith("@li_support: #1 assigned to themselves by @li_support")
    assert history[2].endswith("@li_support: #1 priority normal → high (@li_support)")
    assert history[3].endswith("@li_support: note: waiting for the courier")

    same = await ask(telegram, "/show #1")
    assert same.splitlines()[:3] == card[:3]
    assert await ask(telegram, "/ticket") == "Name the ticket (#N) or use the command in its topic."
    assert await ask(telegram, "/ticket #99") == "There is no ticket #99."


async def test_tags_and_the_customers_card(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, ANNA)
    assert await ask(telegram, "/tag add VIP", thread=thread) == (
        "Tag vip added to the customer of #1."
    )
    await posted_in_topic(telegram, thread, "Tag vip added to the customer by @li_support")
    assert await ask(telegram, "/tag add #refund #1") == "Tag refund added to the customer of #1."
    assert await ask(telegram, "/tag add vip", thread=thread) == (
        "The customer already has the tag vip."
    )
    assert await ask(telegram, "/tag rem refund", thread=thread) == (
        "Tag refund removed from the customer of #1."
    )
    assert await ask(telegram, "/tag remove refund", thread=thread) == (
        "The customer has no tag refund."
    )
    assert (await ask(telegram, "/tag add", thread=thread)).endswith(
        "Usage: /tag <add|remove> <name> [#N]"
    )
    assert (await ask(telegram, "/tag add two words", thread=thread)).startswith(
        "/tag does not take 'words'."
    )
    assert (await models.Customer.get(id=1)).tags == ["vip"]
    tagged = await models.TicketEvent.filter(ticket_id=1, kind="tagged").order_by("id")
    assert [(e.detail["tag"], e.detail["action"]) for e in tagged] == [
        ("vip", "added"),
        ("refund", "added"),
        ("refund", "removed"),
    ]
    assert all(e.actor_id is not None for e in tagged)  # type: ignore[attr-defined]

    await ask(telegram, "/close", thread=thread)
    await telegram.post(button_press("rate:1:5", from_id=ANNA, chat_id=ANNA))
    await telegram.fake.wait_for(lambda f: any("Thank you" in t for t in f.texts(ANNA)))
    second = await hand_off(telegram, ANNA)
    assert second == thread  # the same topic, a new ticket

    card = (await ask(telegram, "/profile", thread=thread)).splitlines()
    assert card[0].startswith("Anna · customer 1 · since ")
    assert card[1] == "Channels: telegram (Anna)"
    assert card[2] == "Language: en · AI replies: on"
    assert card[3] == "Tags: vip"
    assert card[4] == "Satisfaction: 5.0 from 1 ratings"
    assert card[5] == "Tickets: 2"
    assert card[6].startswith("#2 open · ") and card[7].startswith("#1 closed · rated 5 · ")
    assert (await ask(telegram, "/customer #1")).splitlines() == card


async def test_online_away_and_the_list_of_agents(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, ANNA)
    await ask(telegram, "/assign me", thread=thread)
    assert await ask(telegram, "/online") == "You are online already."
    assert await ask(telegram, "/away") == (
        "You are away now; #1 stay assigned to you (/unassign #N hands one back). "
        "/online when you are back."
    )
    assert await ask(telegram, "/away") == "You are away already; /online when you are back."
    await ask(telegram, "/help", admin=True)

    agents = (await ask(telegram, "/agents", admin=True)).splitlines()
    assert agents[0] == "Agents: 2, 1 online"
    assert agents[1] == "🟢 online · Max (@max_admin) · admin · 0 active tickets"
    assert agents[2] == "⚪ away · Li (@li_support) · agent · 1 active ticket"
    assert "(away)" in await ask(telegram, "/tickets", admin=True)
    answer = await ask(telegram, "/assign @li_support #1", admin=True)
    assert answer.endswith("@li_support is away at the moment.")

    assert await ask(telegram, "/back") == "You are online again."
    assert (await ask(telegram, "/team")).splitlines()[0] == "Agents: 2, 2 online"


async def test_help_shows_what_each_role_may_run(telegram: TelegramWorld) -> None:
    for_agent = await ask(telegram, "/help")
    assert "/assign <me|@username|agent-id> [#N] — Assign a ticket" in for_agent
    assert "/faq search <query...>" in for_agent and "/stats [today|7d|30d]" in for_agent
    assert "/faq add" not in for_agent and "/faq remove" not in for_agent
    for_admin = await ask(telegram, "/help", admin=True)
    assert "/faq add <question> <answer> [lang] [id] — Add an FAQ entry" in for_admin

    details = await ask(telegram, "/help close")
    assert details.startswith("/close [#N] [resolution...]\n\nClose a ticket")
    assert "Also: /done" in details
    assert "/faq search" in await ask(telegram, "/help faq")
    assert "Usage" not in await ask(telegram, "/help faq")
    assert (await ask(telegram, "/help faq add", admin=True)).endswith("For admins.")
    assert await ask(telegram, "/help faq add") == (
        "Unknown command /faq. Did you mean /faq? /help lists the commands."
    )
    assert "Did you mean /tickets" in await ask(telegram, "/help tikets")


async def test_unknown_commands_and_wrong_roles_are_answered(telegram: TelegramWorld) -> None:
    thread = await hand_off(telegram, ANNA)
    assert (await ask(telegram, "/tikets", thread=thread)).startswith(
        "Unknown command /tikets. Did you mean /tickets"
    )
    assert "Did you mean /faq?" in await ask(telegram, "/fqa search refund")
    assert "Did you mean /assign" in await ask(telegram, "/asign me", thread=thread)
    assert await ask(telegram, '/faq add "q" "a"') == "/faq add is for admins only."
    assert await ask(telegram, "/faq remove password-reset") == "/faq remove is for admins only."
    assert await ask(telegram, "/faq") == (
        "/faq needs one of: search. Usage:\n/faq search <query...>"
    )
    assert await models.FaqRecord.filter(faq_id="password-reset").exists()
    ticket = await models.Ticket.get(id=1)
    assert ticket.assignee_id is None  # type: ignore[attr-defined]
