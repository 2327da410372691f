"""LongMemEval-style evaluation harness for memsvc."""
