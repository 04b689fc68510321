"""Opens N keep-alive connections to 127.0.0.1:PORT, sends one GET on each, then holds them
open (reading whatever comes) for HOLD seconds and closes them all. Prints how many got an
answer. Usage: python3 many_clients.py PORT N HOLD_S"""
import resource
import selectors
import socket
import sys
import time

port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 100)), hard))
sel = selectors.DefaultSelector()
socks = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
    sel.register(s, selectors.EVENT_WRITE, i)
answered = set()
sent = set()
t0 = time.time()
while time.time() - t0 < hold:
    for key, ev in sel.select(timeout=0.2):
        s, i = key.fileobj, key.data
        if ev & selectors.EVENT_WRITE and i not in sent:
            try:
                s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            except OSError:
                pass
            sent.add(i)
            sel.modify(s, selectors.EVENT_READ, i)
        elif ev & selectors.EVENT_READ:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 200"):
                answered.add(i)
            if not data:
                sel.unregister(s)
print("%d connections, %d answered while held for %.0f s" % (n, len(answered), hold))
for s in socks:
    s.close()
