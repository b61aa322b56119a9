"""The studio room: the editors' tools: checking, previewing, publishing and drawing content.

Modules:
- `checks`: `tsunagu check`, every problem of a bundle with its file, line, item and fix.
- `library`: where the tools find a bundle: the draft (the files being edited) or a version.
- `drafts`: the draft in the database: the files saved in the console over the folders, and
  each save of an item (who, what, before and after), refused on an older revision, restored.
- `forms`: the editors' forms: each kind of item, its fields in Japanese, reading what was
  typed (refused beside the field) and the check's problems by field.
- `publishing`: versions: `tsunagu publish`, `versions`, `diff`, `rollback` and `stage`; the
  draft as files: `tsunagu draft export` and `draft import`.
- `diff`: what changes between two bundles, as editors think of it.
- `preview`: the editors' preview at /preview: the conversation as LINE would show it.
- `scenarios`: the people of content/scenarios.yaml, played through the bot.
- `simulate`: chatting with the questionnaire in a terminal (`tsunagu simulate`).
- `flowdoc`: the questionnaire as one readable table plus a diagram (`tsunagu flow`).
- `graph`: the questionnaire as a diagram (`tsunagu graph`: mermaid, DOT or SVG).

Imports `bot.content`, `bot.dialogue`, `bot.line` (LINE's limits, rendering, the runtime),
`bot.referrals` and `bot.db` (the versions), never the conversation store.
"""
