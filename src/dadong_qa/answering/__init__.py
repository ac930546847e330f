"""Answering: evidence per candidate sentence, the learned decision, short answers, periods, conflicts."""
