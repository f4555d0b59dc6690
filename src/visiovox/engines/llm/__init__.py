"""Language model engines: chat messages in, a token stream out."""
