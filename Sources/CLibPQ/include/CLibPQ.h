#ifndef CLOUDRON_AUDIT_CLIBPQ_H
#define CLOUDRON_AUDIT_CLIBPQ_H
/* Debian's libpq-dev installs the header under postgresql/ (pkg-config's -I/usr/include/postgresql). */
#include <postgresql/libpq-fe.h>

/* libpq, opened at first use (see CLibraryLoader.h): NULL when it is loaded, otherwise why not. Call it
 * before any other function of this module. */
const char *clibpq_load(void);

#endif
