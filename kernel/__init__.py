"""What every app of the clinic uses and nothing of the clinic's own: the one domain error
and its HTTP face, the array-of-choices field, pagination, the JSON parser's bounds, the
strict id and date fields of the API and the admin's forgiving query strings.

The bottom layer: it imports no app (the contract is in pyproject.toml, `[tool.importlinter]`).
"""
