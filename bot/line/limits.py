"""LINE's documented limits on what a bot sends, in one place (the renderer and `check` use them).

From the Messaging API reference; the OpenAPI description does not encode all of them.
"""

MAX_MESSAGES = 5  # messages in one reply
MAX_QUICK_REPLIES = 13  # quick-reply items on one message
MAX_LABEL = 20  # characters of a quick-reply (or button) label
MAX_POSTBACK_DATA = 300  # characters of postback data
MAX_DISPLAY_TEXT = 300  # characters of a postback's displayText
MAX_TEXT = 5000  # characters of one text message
MAX_ALT_TEXT = 1500  # characters of a Flex message's altText
MAX_BUBBLES = 12  # bubbles in one carousel
