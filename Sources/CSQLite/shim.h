#ifndef CLOUDRON_AUDIT_CSQLITE_H
#define CLOUDRON_AUDIT_CSQLITE_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a macro around a function-pointer cast that Swift cannot import. */
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }

#endif
