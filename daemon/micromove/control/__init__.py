"""Control of the running daemon over a Unix socket (docs/control-protocol.md).

- protocol.py: parse and encode requests and replies, no I/O;
- server.py: the socket, peer credentials, one thread per connection; hands
  each well-formed request to the daemon's main loop, where the service
  (micromove/service.py) does it;
- client.py: what `mmctl status`, `pause`, ... use to ask.
"""
