"""Measuring the engine: answer quality (`evaluate`, with its `baselines`) and speed and memory (`bench`).

Used by `eventbot eval` and `eventbot bench`; imports the engine (`index`), never a front end.
"""
