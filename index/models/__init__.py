"""The models, each behind one small protocol: the English sentence embedder (`embedder`, with its lean ONNX
Runtime path in `onnx_backend`), the multilingual embedder (`multilingual`), and the model-free stand-ins for
tests and dry runs (`hashing`)."""
