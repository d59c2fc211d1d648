"""`python -m wan`: one module per command group; main.py parses and dispatches."""
