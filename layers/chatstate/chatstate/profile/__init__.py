"""A verified user's cross-channel profile (name, language, fields a bot declares shared).

``Profile``/``ProfilePatch`` (``chatstate.profile.model``) are the one schema both functions use; a
``ProfileStore`` (``port``) keeps one profile per verified user (the Cognito ``sub``), in DynamoDB
(``dynamodb``) or in memory (``memory``, the twin).
"""
