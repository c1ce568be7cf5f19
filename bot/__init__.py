"""workflow-bot: a GitHub App running a task, submit, review, approve workflow."""
