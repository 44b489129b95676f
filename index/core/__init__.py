"""What every stage shares: the typed records (`records`), the domain errors (`errors`), the settings (`settings`),
and which language a text is in and which answerability model reads it (`language`)."""
