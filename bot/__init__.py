"""Front ends: the command line, the console and Telegram. They format and send; `index` answers."""
