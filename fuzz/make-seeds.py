#!/usr/bin/env python3
"""Writes the fuzz targets' starting seeds into test/resources (run from the repo root).

Jazzer's FuzzedDataProvider takes raw bytes from the front of an input and numbers and
booleans from its end, so each seed is a payload followed by the tail bytes its target reads
first (see each target's first lines).
"""
import os, struct, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "resources", "peloton")

def write(target_dir, name, data):
    d = os.path.join(ROOT, target_dir)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)

def write_all(target_dir, seeds, tail=b""):
    """One seed per (name, payload), each followed by the tail its target reads first."""
    for name, payload in seeds.items():
        write(target_dir, name, payload + tail)

# requestParser: tail = cutSeed(4) direct(1) limits-flag(1), read from the end
REQ_TAIL_DEFAULT = struct.pack(">i", 12345) + b"\x01" + b"\x00"
REQUESTS = {
    "browser-get": b"GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\nAccept: */*\r\nCookie: a=b\r\n\r\n",
    "post-length": b"POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
    "chunked-ext-trailers": b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=\"v\\\"x\";y\r\n world\r\nA \t; e = t\r\n0123456789\r\n0\r\nX-Checksum: abc\r\n\r\n",
    "pipelined": b"\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabcDELETE http://example.com:8080/a/../b?q HTTP/1.2\r\nHost: [::1]:80\r\n\r\n",
    "normalize": b"GET /a/./b/%2e%2E/%7Ec%2fd?x=/../y HTTP/1.1\r\nHost: h:1\r\n\r\nOPTIONS * HTTP/1.1\r\nHost:\r\n\r\nCONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    "bare-lf": b"GET /lf HTTP/1.1\nHost: h\nX-A: 1\n\n",
}
write_all("http/HttpFuzzTestInputs/requestParser", REQUESTS, REQ_TAIL_DEFAULT)
# one seed with small limits: limits-flag 1 then the limits themselves (read before direct/cut)
write("http/HttpFuzzTestInputs/requestParser", "small-limits",
      REQUESTS["chunked-ext-trailers"] + struct.pack(">i", 7) + b"\x00" + b"\x01" * 9 + b"\x01")

# responseParser: tail = cutSeed(4) direct(1) head(1) limits-flag(1)
RESP_TAIL = struct.pack(">i", 999) + b"\x00" + b"\x00" + b"\x00"
RESPONSES = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    "interim-close": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX-F: a\r\n b\r\n\r\nuntil close",
    "no-body": b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
}
write_all("http/HttpFuzzTestInputs/responseParser", RESPONSES, RESP_TAIL)

# chunkedDecoder: tail = cutSeed(4) lenient(1) maxBody-flag(1) maxExtTotal(2: low, high) maxExt(1)
CHUNK_TAIL = struct.pack(">i", 4242) + b"\x00" + b"\x01" + b"\x00\x01" + bytes([64])
CHUNKS = {
    "plain": b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "extensions": b"3 ; a = \"q\\\"d\" ;b\r\nabc\r\n2;c=tok\r\nde\r\n0;z=\"\"\r\n",
    "zeros": b"0005\r\nhello\r\n000\r\n",
    "hex": b"a\r\n0123456789\r\nF\r\n0123456789abcde\r\n0\r\n",
}
write_all("http/HttpFuzzTestInputs/chunkedDecoder", CHUNKS, CHUNK_TAIL)

# bsonDecoder: raw documents
def cstr(s): return s.encode() + b"\x00"
def doc(elems): 
    body = b"".join(elems) + b"\x00"
    return struct.pack("<i", len(body) + 4) + body
def el(t, name, value): return bytes([t]) + cstr(name) + value
def bstr(s):
    b = s.encode() + b"\x00"
    return struct.pack("<i", len(b)) + b
inner = doc([el(0x10, "n", struct.pack("<i", 7)), el(0x02, "s", bstr("x"))])
arr = doc([el(0x10, "0", struct.pack("<i", 1)), el(0x01, "1", struct.pack("<d", 2.5))])
DOCS = {
    "empty": doc([]),
    "scalars": doc([el(0x01, "d", struct.pack("<d", 1.5)), el(0x02, "s", bstr("héllo")),
                    el(0x08, "t", b"\x01"), el(0x0A, "n", b""), el(0x10, "i", struct.pack("<i", -3)),
                    el(0x12, "l", struct.pack("<q", 1 << 40)), el(0x09, "dt", struct.pack("<q", 1700000000123)),
                    el(0x11, "ts", struct.pack("<q", 5)), el(0xFF, "min", b""), el(0x7F, "max", b"")]),
    "nested": doc([el(0x03, "doc", inner), el(0x04, "arr", arr)]),
    "binary-oid-regex": doc([el(0x05, "b", struct.pack("<i", 3) + b"\x00abc"),
                             el(0x05, "u", struct.pack("<i", 16) + b"\x04" + bytes(range(16))),
                             el(0x07, "oid", bytes(range(12))), el(0x0B, "re", cstr("^a.*b$") + cstr("imx")),
                             el(0x13, "dec", bytes(15) + b"\x30"), el(0x0D, "js", bstr("f()")),
                             el(0x0E, "sym", bstr("sym")), el(0x06, "undef", b"")]),
    "dup-keys": doc([el(0x10, "a", struct.pack("<i", 1)), el(0x10, "a", struct.pack("<i", 2))]),
}
write_all("mongo/MongoFuzzTestInputs/bsonDecoder", DOCS)

# opMsgDecoder: tail = keywords(1) maxSize-flag(1), read from the end
def opmsg(flags, sections, checksum=False):
    body = struct.pack("<I", flags | (1 if checksum else 0)) + sections
    length = 16 + len(body) + (4 if checksum else 0)
    msg = struct.pack("<iiii", length, 7, 3, 2013) + body
    if checksum:
        msg += struct.pack("<I", crc32c(msg))
    return msg
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
ok = doc([el(0x01, "ok", struct.pack("<d", 1.0))])
seq_docs = doc([el(0x10, "x", struct.pack("<i", 1))]) * 2
seq = b"\x01" + struct.pack("<i", 4 + len(cstr("documents")) + len(seq_docs)) + cstr("documents") + seq_docs
MSGS = {
    "body": opmsg(0, b"\x00" + ok),
    "body-sequence": opmsg(2, b"\x00" + ok + seq),
    "checksum": opmsg(0, b"\x00" + ok, checksum=True),
}
write_all("mongo/MongoFuzzTestInputs/opMsgDecoder", MSGS, b"\x01" + b"\x01")
