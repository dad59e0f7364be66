"""The Slack edge: a slack-bolt app that answers in threads, its Block Kit rendering, feedback.

Nothing is imported here, so that `bot.cli` stays fast to start; see `bot.slack.app`.
"""
