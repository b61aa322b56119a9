"""The content room: the schema of the editors' files and reading them as one bundle.

A bundle is a mapping of file names to bytes (`content/*.yaml`, `flows/*.yaml`); its checksum
is its id. Imports no other room.
"""
