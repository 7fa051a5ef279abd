// libarchive, read and written through its streaming API (Debian: libarchive-dev).
#include <archive.h>
#include <archive_entry.h>
