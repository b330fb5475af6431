"""Reporting: findings review, report templates, report versions and critical results."""
