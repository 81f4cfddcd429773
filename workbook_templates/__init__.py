"""Builds kpisheet templates and team workbooks from the rulebook."""
