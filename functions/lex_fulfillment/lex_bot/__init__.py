"""The sample ChatBot: typed session attributes and intent handlers (DESIGN.md §3)."""
