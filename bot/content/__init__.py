"""The content room: the schema of the editors' files and reading them as one bundle.

A bundle is a mapping of file names to bytes (`content/*.yaml`, `flows/*.yaml`); its checksum
is its id.

Modules:
- `bundle`: a bundle: the editors' files as names to bytes, its id, parsed into `Content`.
- `files`: reading YAML files from bytes, with the `Problem`s that name file, line and item.
- `schema`: the schema of a bundle: programmes, offices, areas, rules, messages, the flows.
- `flow`: the flow file's schema: steps, their options and where each leads.
- `source`: where the app's bundles come from: `content_source(app)`.

Imports no other room.
"""
