"""The local stack: the same handlers on an in-process AWS emulator, resources from template.yaml."""
