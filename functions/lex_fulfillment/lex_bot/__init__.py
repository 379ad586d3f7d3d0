"""The sample ChatBot: typed session attributes and intent handlers (README, "Lex V2 fulfillment function")."""
