"""The example agents' prompts that ``promptloop init`` writes (package data)."""
