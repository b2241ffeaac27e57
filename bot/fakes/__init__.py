"""Local fakes of the Slack Web API and the Telegram Bot API, for tests and `itinera demo`."""
