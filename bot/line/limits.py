"""LINE's documented limits on what a bot sends, in one place (the renderer and `check` use them).

From the Messaging API reference (https://developers.line.biz/en/reference/messaging-api/);
the OpenAPI description (tests/line/openapi/messaging-api.yml) encodes only some of them, as
noted. LINE counts a text's characters in UTF-16 code units (an emoji may count as two) and an
action's label in visible characters
(https://developers.line.biz/en/docs/messaging-api/text-character-count/).
"""

MAX_MESSAGES = 5  # messages in one reply (OpenAPI ReplyMessageRequest.messages maxItems: 5)
MAX_QUICK_REPLIES = 13  # quick-reply items on one message (OpenAPI QuickReply.items maxItems)
# Characters of an action's label: the reference's action objects give 20 for quick-reply
# buttons and templates (not in the OpenAPI file); Flex buttons may take more, but the bot keeps
# every label to 20, the limit that holds wherever a label is shown.
MAX_LABEL = 20
MAX_POSTBACK_DATA = 300  # characters of postback data (OpenAPI PostbackAction.data maxLength)
MAX_DISPLAY_TEXT = 300  # characters of a postback's displayText
MAX_TEXT = 5000  # characters (UTF-16 code units) of one text message
MAX_ALT_TEXT = 1500  # characters of a Flex message's altText (reference: "Max character limit")
MAX_BUBBLES = 12  # bubbles in one carousel (reference: carousel "Max: 12 bubbles")
MAX_URI = 1000  # characters of a URI action's uri (OpenAPI URIAction.uri maxLength: 1000)

# Rich menus: the rich menu object (https://developers.line.biz/en/reference/messaging-api/
# #rich-menu-object), its area, bounds and action objects (#area-object, #action-objects) and
# the image (#upload-rich-menu-image). The OpenAPI file encodes only chatBarText's and name's
# maxLength and the response's 20 areas.
MAX_MENU_AREAS = 20  # area objects in one rich menu (reference: "Max: 20 area objects")
MAX_CHAT_BAR_TEXT = 14  # characters of chatBarText (OpenAPI RichMenuRequest maxLength: 14)
MAX_MENU_NAME = 300  # characters of a rich menu's name (OpenAPI maxLength: 300)
MAX_MENU_LABEL = 20  # characters of a rich menu action's label (reference: "Max: 20")
# Image: JPEG or PNG, 800 to 2500 pixels wide, at least 250 high, width / height at least
# 1.45 (tsunagu draws 2500×1686 or 2500×843), at most 1 MB: taken as 1,000,000 bytes, the
# stricter reading.
MENU_IMAGE_TYPES = ("image/png", "image/jpeg")
MAX_MENU_IMAGE_BYTES = 1_000_000
MENU_IMAGE_WIDTH = (800, 2500)
MIN_MENU_IMAGE_HEIGHT = 250
MIN_MENU_ASPECT = 1.45
MAX_RICH_MENUS = 1000  # rich menus one channel may have (reference: "Create rich menu")
URI_SCHEMES = ("http", "https", "line", "tel")  # a URI action's schemes (reference: uri)
