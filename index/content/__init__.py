"""Content: article files (`loader`) and web pages (`webpage`, `fetch`) become `Document`s; paragraphs become
`Sentence`s (`splitter`, with Korean by `korean`); the words the lexical side counts (`words`); a question cleaned
before it is asked (`question`)."""
