"""Slack message text to a plain question: message shapes written for these tests."""

from __future__ import annotations

import pytest

from bot.slack.text import mentioned_users, mentions, plain_question

BOT = "UBOT"
NAMES = {"U2": "Dana Reyes", "W3": "Ola"}


def ask(text: str) -> str:
    return plain_question(text, bot_user_id=BOT, names=NAMES)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        # the bot's own mention, wherever it is and however it is labelled
        ("<@UBOT> Who controls Port Ellis?", "Who controls Port Ellis?"),
        ("Who controls Port Ellis? <@UBOT>", "Who controls Port Ellis?"),
        ("<@UBOT|newsbot>, who controls Port Ellis?", "who controls Port Ellis?"),
        ("Hey <@UBOT> - who controls <@UBOT> Port Ellis?", "Hey - who controls Port Ellis?"),
        # users: by the name the mention carries, by a looked-up name, or dropped
        ("<@UBOT> what did <@U2> say?", "what did Dana Reyes say?"),
        ("<@UBOT> what did <@W3> say?", "what did Ola say?"),
        ("<@UBOT> what did <@U5|@sam> say?", "what did sam say?"),
        ("<@UBOT> <@U123> who controls Port Ellis?", "who controls Port Ellis?"),
        # channels keep their name; special mentions only address people
        ("<@UBOT> what did #news say? <#C1|news>", "what did #news say? #news"),
        ("<@UBOT> is <#C7> about Castlebay?", "is about Castlebay?"),
        ("<!channel> <@UBOT> who controls Port Ellis?", "who controls Port Ellis?"),
        ("<!here|here> <!everyone> who won?", "who won?"),
        ("<!subteam^S0614TZR7|@editors> who controls Port Ellis?", "who controls Port Ellis?"),
        (
            "what happened on <!date^1392734382^{date_short}|Feb 18, 2014>?",
            "what happened on Feb 18, 2014?",
        ),
        # links become their label, or their address
        ("Is <https://news.example/a?b=1&amp;c=2|this report> right?", "Is this report right?"),
        ("Is <https://news.example/a> right?", "Is https://news.example/a right?"),
        ("mail <mailto:desk@news.example|the desk>", "mail the desk"),
        ("mail <mailto:desk@news.example>", "mail desk@news.example"),
        # emoji codes go, times stay
        ("Who controls Port Ellis? :thinking_face: :flag-xx:", "Who controls Port Ellis?"),
        (":+1::skin-tone-2: who won at 10:30:45?", "who won at 10:30:45?"),
        # mrkdwn formatting marks go, their text stays
        ("Who *controls* _Port Ellis_ ~now~?", "Who controls Port Ellis now?"),
        ("Was `harbour_gate_7` shut?", "Was harbour_gate_7 shut?"),
        ("```Who controls\nPort Ellis?```", "Who controls Port Ellis?"),
        ("&gt; Who controls Port Ellis?\n&gt; asked Dana", "Who controls Port Ellis? asked Dana"),
        ("&gt;&gt;&gt; quoted block", "quoted block"),
        # what is not markup is left alone
        ("is 2*3*4 = 24 in snake_case_name?", "is 2*3*4 = 24 in snake_case_name?"),
        (
            "Who controls &lt;Port Ellis&gt; &amp; Castlebay?",
            "Who controls <Port Ellis> & Castlebay?",
        ),
        ("Кто контролирует порт?", "Кто контролирует порт?"),
        ("", ""),
        ("<@UBOT>", ""),
        ("<@UBOT> :wave:", ""),
    ],
)
def test_slack_text_becomes_the_plain_question(text: str, question: str) -> None:
    assert ask(text) == question


def test_without_a_bot_id_every_unnamed_mention_is_dropped() -> None:
    assert plain_question("<@UBOT> who won?") == "who won?"
    assert plain_question("<@UBOT|newsbot> who won?") == "newsbot who won?"


def test_mentions_are_listed_for_lookups() -> None:
    text = "<@UBOT> what did <@U2> and <@U5|sam> and <@U2> say? <#C1|news> <!here>"
    assert mentioned_users(text) == ["U2", "UBOT"]
    assert mentions(text) == {"UBOT", "U2", "U5"}
