"""xapigen: idl/ (JSON) -> C for xapi-gateway. Stdlib only.

load.py validates and builds the model (model.py), implicit.py derives the
implicit messages, the gen_*.py backends each write one kind of output."""
