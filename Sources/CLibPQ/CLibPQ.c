#include "CLibPQ.h"
#include "CLibraryLoader.h"

/* Every libpq function the central store calls: return type, name, parameters, arguments. The
 * definitions below carry libpq-fe.h's names and prototypes and forward to the loaded library. */
#define QUERY_PARAMETERS (PGconn *conn, const char *command, int nParams, const Oid *paramTypes, \
    const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat)
#define QUERY_ARGUMENTS (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat)
#define PQ_FUNCTIONS(X) \
    X(PGconn *, PQconnectdb, (const char *conninfo), (conninfo)) \
    X(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg), (conninfo, errmsg)) \
    X(int, PQconnectionNeedsPassword, (const PGconn *conn), (conn)) \
    X(ConnStatusType, PQstatus, (const PGconn *conn), (conn)) \
    X(char *, PQerrorMessage, (const PGconn *conn), (conn)) \
    X(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query)) \
    X(PGresult *, PQexecParams, QUERY_PARAMETERS, QUERY_ARGUMENTS) \
    X(int, PQsendQueryParams, QUERY_PARAMETERS, QUERY_ARGUMENTS) \
    X(int, PQsetSingleRowMode, (PGconn *conn), (conn)) \
    X(PGresult *, PQgetResult, (PGconn *conn), (conn)) \
    X(ExecStatusType, PQresultStatus, (const PGresult *res), (res)) \
    X(char *, PQresultErrorMessage, (const PGresult *res), (res)) \
    X(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode)) \
    X(int, PQntuples, (const PGresult *res), (res)) \
    X(int, PQnfields, (const PGresult *res), (res)) \
    X(char *, PQfname, (const PGresult *res, int field_num), (res, field_num)) \
    X(Oid, PQftype, (const PGresult *res, int field_num), (res, field_num)) \
    X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num)) \
    X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num)) \
    X(int, PQputCopyData, (PGconn *conn, const char *buffer, int nbytes), (conn, buffer, nbytes)) \
    X(int, PQputCopyEnd, (PGconn *conn, const char *errormsg), (conn, errormsg)) \
    X(PGcancel *, PQgetCancel, (PGconn *conn), (conn)) \
    X(int, PQcancel, (PGcancel *cancel, char *errbuf, int errbufsize), (cancel, errbuf, errbufsize))
#define PQ_PROCEDURES(X) \
    X(PQfinish, (PGconn *conn), (conn)) \
    X(PQclear, (PGresult *res), (res)) \
    X(PQconninfoFree, (PQconninfoOption *connOptions), (connOptions)) \
    X(PQfreemem, (void *ptr), (ptr)) \
    X(PQfreeCancel, (PGcancel *cancel), (cancel))

enum { PQ_FUNCTIONS(LOADED_INDEX) PQ_PROCEDURES(LOADED_PROCEDURE_INDEX) function_count };
static const char *const names[] = { PQ_FUNCTIONS(LOADED_NAME) PQ_PROCEDURES(LOADED_PROCEDURE_NAME) };
static void *functions[function_count];
static struct loaded_library libpq = LOADED_LIBRARY("libpq.so.5", names, functions);

const char *clibpq_load(void) { return loaded_library_open(&libpq); }

#define LOADED_FROM libpq
PQ_FUNCTIONS(LOADED_FORWARD)
PQ_PROCEDURES(LOADED_FORWARD_PROCEDURE)
