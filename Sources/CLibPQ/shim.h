#ifndef CLOUDRON_AUDIT_CLIBPQ_H
#define CLOUDRON_AUDIT_CLIBPQ_H
#include <libpq-fe.h>
#endif
