"""The operator room: setting up the LINE account itself, from the server's command line.

Above the checks (`bot.studio.checks`), so a rich menu is checked by `tsunagu check`'s own
rules before LINE sees it; it imports the rooms below it (studio, line, dialogue, content, db)
and nothing imports it but the app factory.

- `richmenu`: `tsunagu richmenu deploy` and `status` (content/richmenu.yaml to LINE, once per
  change, recorded in `richmenu_deployments` and audited).
- `menu_image`: draws the rich menu's image (Pillow, the packaged Japanese font) or checks one
  an editor made.
- `channel`: `tsunagu line status` and `test-webhook`, the SDK's API clients, and every LINE
  error as one plain line (`LineProblem`, `talking_to_line`).
- `commands`: registers the room's commands.
"""
