"""Helpers the tests share (subprocesses, command output, pages, texts): not tests themselves."""
