"""The engine: articles on disk to ranked, cited sentences. It knows nothing of the front ends (`bot/`).

Its packages, in the order of the stages; a package imports only from those listed before it:

- `core`: the records that travel between stages, the domain errors, the settings, which language a text is in;
- `content`: article files and web pages become `Document`s, then `Sentence`s (splitting, Korean, words);
- `models`: every model behind a small protocol each (the English embedder and its backends, the multilingual
  embedder, the hashing stand-ins);
- `store`: the index on disk and the build that writes it;
- `ranking`: ordering sentences for a question, and deciding whether to answer;
- `service`: the one entry point front ends call, batched, watched and added to while it serves;
- `conversation`: the readers' side (the question log, follow-up questions).
"""
