"""The readers' side of the conversation: what they asked and thought of the answers (`journal`, the question
log) and a follow-up question read in the light of the one before it (`followup`)."""
