"""The sample ChatBot: typed session attributes and intent handlers (docs/lex-guide.md, "The sample bot")."""
