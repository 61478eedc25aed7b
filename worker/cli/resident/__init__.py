"""The resident command server: ``crm`` answers from a process that has already
imported what the everyday commands use.

Most of a short command's time went to imports (SQLAlchemy's ORM, the models, pydantic,
Typer and Rich), not to its work. The ``crm`` executable is a small launcher
(worker/cli/launcher.py, standard library only) that hands the command to a server
per user and install; the server forks a child per command, and the child runs the
same ``worker.cli.main.main()`` as ``python -m worker.cli.main`` does, on the caller's
own file descriptors 0, 1 and 2, in the caller's directory, environment and umask.

- ``availability``: is the server turned off, does the platform allow it?
- ``paths``: where the server's socket lives, and the checks of that directory.
- ``protocol``: the messages between launcher and server.
- ``client``: hands a command over (or asks for status or a stop), starts a server.
- ``freshness``: has the code on disk changed since the server imported it?
- ``server``: accepts, forks, reports exit statuses, retires.
- ``child``: what a forked child does before it runs the command.
- ``commands``: ``crm resident status|stop``.

Decisions: a command is run by exactly one process. The launcher runs it itself only
when no server took it: the connection failed, or the server answered "refused"
before it forked anything. A server whose code on disk changed refuses, releases its
socket and exits once its running commands are done; so does an idle one.
"""
