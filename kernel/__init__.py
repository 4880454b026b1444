"""What every app of the clinic uses and nothing of the clinic's own: the one domain error
and its HTTP face, the array-of-choices field, pagination, the JSON parser's bounds, the
strict id and date fields of the API, the admin's forgiving query strings, and the services'
clock (`clock.save_at`: a row stamped at the moment its service acts at).

The bottom layer: it imports no app (the contract is in pyproject.toml, `[tool.importlinter]`).
"""
