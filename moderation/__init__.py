"""The moderation domain: settings, store, policy, queue, decisions, CLI."""
