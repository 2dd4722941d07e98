"""Stylesheets for the books epubgen writes; installed as the package epubgen.styles."""
