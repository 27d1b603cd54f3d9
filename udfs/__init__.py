"""Pure-Python record logic of corpusforge. Nothing here imports pyspark: every function takes plain
values and returns plain values, so it is fast to test and reusable outside Spark."""
