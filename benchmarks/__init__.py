"""``artistbot bench``: what the bot costs, measured on the path users take.

It depends on the core (:mod:`retrieval`) and the chat layer (:mod:`bot.chat`);
neither depends on it. :mod:`benchmarks.run` is the orchestrator,
:mod:`benchmarks.command` the ``artistbot bench`` command.
"""
