"""Slow request bodies: N connections each send a POST head, then one body byte every
INTERVAL seconds, and wait for the server's answer. Prints, per connection, the status it got
and when; a server that bounds body time answers 408 soon after its grace period.
Usage: python3 slow_body.py PORT N INTERVAL_S LIMIT_S"""
import selectors
import socket
import sys
import time

port, n, interval, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sel = selectors.DefaultSelector()
socks = []
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    s.setblocking(False)
    socks.append(s)
    sel.register(s, selectors.EVENT_READ, i)
answer = {}
next_byte = t0 + interval
while len(answer) < n and time.time() - t0 < limit:
    for key, _ in sel.select(timeout=max(0.0, min(0.2, next_byte - time.time()))):
        s, i = key.fileobj, key.data
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        status = data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed"
        answer[i] = (status, time.time() - t0)
        sel.unregister(s)
    if time.time() >= next_byte:
        for i, s in enumerate(socks):
            if i not in answer:
                try:
                    s.send(b"x")
                except OSError:
                    pass
        next_byte += interval
statuses = {}
for i in range(n):
    st = answer.get(i, ("still open", None))[0]
    statuses[st] = statuses.get(st, 0) + 1
times = sorted(t for _, t in answer.values() if t is not None)
print("answers: " + ", ".join("%s x%d" % kv for kv in sorted(statuses.items())))
if times:
    print("first answer after %.1f s, last after %.1f s (limit %.0f s)" % (times[0], times[-1], limit))
