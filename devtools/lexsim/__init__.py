"""A local Lex V2 runtime simulator (never deployed): the bot from ``template.yaml``, played turn by turn.

* ``definition``: the ``AWS::Lex::Bot`` resource read into plain dataclasses.
* ``values``: slot values from text (AMAZON.Date, AMAZON.City, custom slot types and their strategy).
* ``matcher``: a deterministic utterance → intent matcher over the sample utterances (not Lex's NLU).
* ``engine``: the dialog manager: Lex V2-shaped code-hook events, dialog actions, session attributes.

``devtools.lex_console`` is the terminal front end and the JSON entry point.
"""
