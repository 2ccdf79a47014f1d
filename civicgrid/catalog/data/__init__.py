"""Catalogue data files (YAML) shipped with CivicGrid; a package so that wheels include them."""
