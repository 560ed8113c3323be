"""Many inputs at a finance bureau's scale: sources (folders, .eml, mbox), batch, summary, replies, collect."""
