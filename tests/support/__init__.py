"""Test support shared by several test folders (the fixture LLM server and its pytest fixture)."""
