"""Document operations (parse, chunk, extract, ...): each a processor behind one interface.

Processors run only in the worker; they import their parsers lazily so the API never loads them.
"""
