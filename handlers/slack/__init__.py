"""The Slack channel: Bolt listeners, Block Kit renderers, the Slack Messenger."""
