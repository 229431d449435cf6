"""API tokens and webhooks: how other systems talk to an organisation's Insignia, and hear back from it."""
