/*
 * Preloaded after libasan into a server that was not built with ASan
 * (scripts/sanitize). Without it the server hangs before main():
 *
 * The ASan runtime initializes at the first malloc() it intercepts. In
 * PostgreSQL's process that malloc() comes from libgpg-error's constructor,
 * inside glibc's bindtextdomain(), which holds glibc's gettext lock. Part of the
 * runtime's initialization is a lookup of the optional symbol swift_demangle;
 * when the lookup fails, dlerror() translates its message through gettext and
 * waits for that same lock, forever.
 *
 * Defining the symbol makes the lookup succeed, so dlerror() is never called.
 * It never demangles anything: a null result means "not a Swift name", and the
 * runtime goes on with its C++ demangler.
 */
#include <stddef.h>

char *swift_demangle(const char *mangled, size_t mangled_length, char *output,
                     size_t *output_length, unsigned int flags);

char *
swift_demangle(const char *mangled, size_t mangled_length, char *output,
               size_t *output_length, unsigned int flags)
{
	(void) mangled;
	(void) mangled_length;
	(void) output;
	(void) output_length;
	(void) flags;
	return NULL;
}
