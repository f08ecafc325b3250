#!/usr/bin/env python3
"""notify_sock.py PATH LOG READY: own a unix datagram socket at PATH (the
NOTIFY_SOCKET of a test), write each datagram received to LOG as one line
(newlines inside a datagram become spaces), and create READY once bound.
Runs until killed."""
import os
import socket
import sys

path, log, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(ready, "w").close()
with open(log, "a", buffering=1) as f:
    while True:
        data = s.recv(4096)
        f.write(data.decode("utf-8", "replace").replace("\n", " ") + "\n")
