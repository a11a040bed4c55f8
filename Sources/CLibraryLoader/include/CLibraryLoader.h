#ifndef CLOUDRON_AUDIT_CLIBRARYLOADER_H
#define CLOUDRON_AUDIT_CLIBRARYLOADER_H
#include <pthread.h>
#include <stddef.h>

/* A system library opened with dlopen at its first use, not by the dynamic loader at start.
 *
 * libcurl (sync) and libpq (push, `--from`) bring 35 more libraries with them (GnuTLS, Kerberos, LDAP…)
 * whose loading and relocation cost every process milliseconds, also the reading commands that use
 * neither. CCurl and CLibPQ define the functions the Swift code calls, under their own names and with the
 * prototypes of the library's header (so the compiler checks each), each forwarding to the library's
 * function resolved here. Nothing links the libraries: a function used without being listed there is a
 * link error (or, where Foundation's libcurl autolink is kept, a binary that needs the library again,
 * which LibraryLoadingTests catch), not a silent return of the cost.
 */
struct loaded_library {
    const char *soname;           /* the name the linker would have recorded, e.g. "libcurl.so.4" */
    const char *const *names;     /* the functions used, in the order of `functions` */
    void **functions;             /* resolved by loaded_library_open */
    size_t count;
    pthread_mutex_t lock;
    int state;                    /* 0 not tried, 1 loaded, 2 failed (`failure` says why) */
    char failure[512];
};

#define LOADED_LIBRARY(soname, names, functions) \
    { soname, names, functions, sizeof(names) / sizeof(names[0]), PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* Opens the library and resolves every function, once per process: NULL when it is loaded, otherwise
 * one line saying why not (dlopen's or dlsym's message). Thread-safe. */
const char *loaded_library_open(struct loaded_library *library);

/* The function at `index`, opening the library first. Callers check loaded_library_open before the first
 * call, so that a missing library is a one-line error; without that check this ends the process with
 * the reason on stderr rather than calling a null pointer. */
void *loaded_library_function(struct loaded_library *library, size_t index);

/* For a library's list of functions, X(type, name, (parameters), (arguments)), and of procedures (void),
 * X(name, (parameters), (arguments)): the index of each, its name, and its forwarding definition through
 * the struct loaded_library that the including file names LOADED_FROM. */
#define LOADED_INDEX(type, name, parameters, arguments) index_##name,
#define LOADED_PROCEDURE_INDEX(name, parameters, arguments) index_##name,
#define LOADED_NAME(type, name, parameters, arguments) #name,
#define LOADED_PROCEDURE_NAME(name, parameters, arguments) #name,
#define LOADED_FORWARD(type, name, parameters, arguments) \
    type name parameters { return ((type (*) parameters) loaded_library_function(&LOADED_FROM, index_##name)) arguments; }
#define LOADED_FORWARD_PROCEDURE(name, parameters, arguments) \
    void name parameters { ((void (*) parameters) loaded_library_function(&LOADED_FROM, index_##name)) arguments; }

#endif
