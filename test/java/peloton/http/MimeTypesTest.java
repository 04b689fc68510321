package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MimeTypesTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        "index.html        |text/html; charset=utf-8",
        "/a/b/INDEX.HTM    |text/html; charset=utf-8",
        "style.css         |text/css; charset=utf-8",
        "app.js            |text/javascript; charset=utf-8",
        "data.json         |application/json",
        "notes.txt         |text/plain; charset=utf-8",
        "img.png           |image/png",
        "photo.jpg         |image/jpeg",
        "photo.JPEG        |image/jpeg",
        "anim.gif          |image/gif",
        "logo.svg          |image/svg+xml",
        "favicon.ico       |image/x-icon",
        "pic.webp          |image/webp",
        "doc.pdf           |application/pdf",
        "mod.wasm          |application/wasm",
        "clip.mp4          |video/mp4",
        "font.woff         |font/woff",
        "font.woff2        |font/woff2",
        "feed.xml          |application/xml",
        "archive.zip       |application/zip",
        "archive.tar.gz    |application/gzip",
        "README            |application/octet-stream",
        "file.unknownext   |application/octet-stream",
        "trailingdot.      |application/octet-stream",
        "dir.d/file        |application/octet-stream",
        ".html             |text/html; charset=utf-8",
        "NULL              |application/octet-stream",
    })
    void forName(String name, String type) {
        assertEquals(type, MimeTypes.forName(name));
    }
}
