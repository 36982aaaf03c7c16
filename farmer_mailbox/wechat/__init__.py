"""The WeChat Official Account channel, service side (issue 7).

`messages.handle` is the one entry from the conversation (events, unbound openids, 解绑);
`binding` links an openid to a real-name user by a code sent by SMS; `codes` makes and hashes
those codes; `preference` picks WeChat or SMS per user when messages are enqueued; `passive`
turns an answer ready within the budget into the HTTP reply to WeChat's push.
"""
