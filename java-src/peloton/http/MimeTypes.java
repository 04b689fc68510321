package peloton.http;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Content types by file extension, for serving static files. */
public final class MimeTypes {
    /** The type of files whose extension is unknown. */
    public static final String DEFAULT = "application/octet-stream";

    private static final Map<String, String> TYPES = new HashMap<>();

    static {
        String utf8 = "; charset=utf-8";
        TYPES.put("html", "text/html" + utf8);
        TYPES.put("htm", "text/html" + utf8);
        TYPES.put("css", "text/css" + utf8);
        TYPES.put("js", "text/javascript" + utf8);
        TYPES.put("mjs", "text/javascript" + utf8);
        TYPES.put("json", "application/json");
        TYPES.put("map", "application/json");
        TYPES.put("txt", "text/plain" + utf8);
        TYPES.put("csv", "text/csv" + utf8);
        TYPES.put("md", "text/markdown" + utf8);
        TYPES.put("xml", "application/xml");
        TYPES.put("png", "image/png");
        TYPES.put("jpg", "image/jpeg");
        TYPES.put("jpeg", "image/jpeg");
        TYPES.put("gif", "image/gif");
        TYPES.put("svg", "image/svg+xml");
        TYPES.put("ico", "image/x-icon");
        TYPES.put("webp", "image/webp");
        TYPES.put("avif", "image/avif");
        TYPES.put("pdf", "application/pdf");
        TYPES.put("wasm", "application/wasm");
        TYPES.put("mp4", "video/mp4");
        TYPES.put("webm", "video/webm");
        TYPES.put("mp3", "audio/mpeg");
        TYPES.put("woff", "font/woff");
        TYPES.put("woff2", "font/woff2");
        TYPES.put("ttf", "font/ttf");
        TYPES.put("otf", "font/otf");
        TYPES.put("zip", "application/zip");
        TYPES.put("gz", "application/gzip");
        TYPES.put("tar", "application/x-tar");
    }

    private MimeTypes() {}

    /**
     * The content type for {@code fileName} (a name or path) by its extension, case-insensitive;
     * text types carry {@code charset=utf-8}. Unknown, missing or null: {@link #DEFAULT}.
     *
     * @return the content type for {@code fileName} (a name or path) by its extension, case-insensitive; text types carry {@code charset=utf-8}
     * @param fileName a file name or path
     */
    public static String forName(String fileName) {
        if (fileName == null) return DEFAULT;
        int dot = fileName.lastIndexOf('.');
        int slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
        if (dot < 0 || dot < slash || dot == fileName.length() - 1) return DEFAULT;
        String type = TYPES.get(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type == null ? DEFAULT : type;
    }
}
