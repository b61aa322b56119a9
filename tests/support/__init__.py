"""Helpers the tests share, so conversation tests read like the conversation."""
