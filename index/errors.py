"""Domain errors: raised in the library, turned into one clear line at the edge."""


class EventBotError(Exception):
    """Base for every failure a user or operator can cause; the message is shown as is."""

    exit_code = 1


class SettingsError(EventBotError):
    """A setting has an invalid value."""


class NoDocumentsError(EventBotError):
    """The seeds folder holds no readable article."""


class IndexMissingError(EventBotError):
    """No index has been built yet."""


class IndexDamagedError(EventBotError):
    """The index on disk is unreadable, incomplete or built for another model."""


class ModelLoadError(EventBotError):
    """The embedding model could not be loaded."""


class BadQuestionError(EventBotError):
    """The question is empty or blank."""

    exit_code = 2
