// glibc's allocator settings (mallopt), which its Swift module does not export. Part of libc: no
// library to link. Only the Machine module imports this.
#include <malloc.h>
