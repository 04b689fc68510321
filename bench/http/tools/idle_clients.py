"""Opens N keep-alive connections to 127.0.0.1:PORT in batches, makes one GET on each and reads
its answer, then holds them all idle. Source addresses 127.0.0.2, .3, ... spread the
connections so that more than one address's worth of ephemeral ports can be open. Prints
"ready N" once all are answered (or "failed ..."), then waits until the file STOP exists or
HOLD seconds pass, and closes them.
Usage: python3 idle_clients.py PORT N STOP_FILE HOLD_S"""
import os
import resource
import selectors
import socket
import sys
import time

port, n, stop_file, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, max(n + 1000, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
PER_SOURCE = 25000
BATCH = 500
REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
sel = selectors.DefaultSelector()
socks = []
t0 = time.time()
done = 0
while done < n:
    batch = []
    for j in range(min(BATCH, n - done)):
        k = done + j
        s = socket.socket()
        s.setblocking(False)
        # The port is then picked at connect, unique for the whole address pair: a bind alone
        # must find one free on the source address, and the TIME_WAIT sockets of the
        # previous server's run (another server port) used to exhaust them.
        s.setsockopt(socket.IPPROTO_IP, socket.IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind(("127.0.0.%d" % (2 + k // PER_SOURCE), 0))
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE, [False, b""])
        batch.append(s)
    pending = len(batch)
    deadline = time.time() + 30
    while pending and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s, st = key.fileobj, key.data
            if not st[0]:
                s.send(REQ)
                st[0] = True
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            data = s.recv(4096)
            st[1] += data
            if b"Hello from Peloton</h1>" in st[1] or not data:
                sel.unregister(s)
                pending -= 1
                if not data:
                    print("failed: a connection was closed by the server", flush=True)
                    sys.exit(1)
    if pending:
        print("failed: %d of a batch unanswered after 30 s" % pending, flush=True)
        sys.exit(1)
    socks.extend(batch)
    done += len(batch)
print("ready %d in %.1f s" % (done, time.time() - t0), flush=True)
t1 = time.time()
while not os.path.exists(stop_file) and time.time() - t1 < hold:
    time.sleep(0.2)
for s in socks:
    s.close()
