"""CSV files people open in spreadsheets: cells must never be read as formulas."""


def spreadsheet_safe(value: str) -> str:
    """Keep a cell from being read as a formula by a spreadsheet (=, +, -, @ lead a formula)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
