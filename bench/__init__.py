"""Load and memory benchmarks of tsunagu against a bare line-bot-sdk echo bot."""
