"""The mail as it will go: recipients, the frozen plan, the message bytes, checked."""
