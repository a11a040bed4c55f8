/* The forwarding definitions below carry curl.h's names; its type-checking macros would rewrite them. */
#define CURL_DISABLE_TYPECHECK
#include "CCurl.h"
#include "CLibraryLoader.h"
#include <stdarg.h>

/* Every libcurl function in the binary: return type, name, parameters, arguments. The Client's, and
 * those of Foundation's URLSession (FoundationNetworking), which the simulator's HTTP server library
 * brings into the executable for `demo` and which nothing runs: were one of them left out, the linker
 * would load libcurl at start again. */
#define CURL_FUNCTIONS(X) \
    X(CURLcode, curl_global_init, (long flags), (flags)) \
    X(CURL *, curl_easy_init, (void), ()) \
    X(CURLcode, curl_easy_perform, (CURL *curl), (curl)) \
    X(CURLcode, curl_easy_pause, (CURL *handle, int bitmask), (handle, bitmask)) \
    X(const char *, curl_easy_strerror, (CURLcode code), (code)) \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data), (list, data)) \
    X(CURLM *, curl_multi_init, (void), ()) \
    X(CURLMcode, curl_multi_add_handle, (CURLM *multi_handle, CURL *curl_handle), (multi_handle, curl_handle)) \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *multi_handle, CURL *curl_handle), (multi_handle, curl_handle)) \
    X(CURLMcode, curl_multi_cleanup, (CURLM *multi_handle), (multi_handle)) \
    X(CURLMsg *, curl_multi_info_read, (CURLM *multi_handle, int *msgs_in_queue), (multi_handle, msgs_in_queue)) \
    X(CURLMcode, curl_multi_assign, (CURLM *multi_handle, curl_socket_t sockfd, void *sockp), (multi_handle, sockfd, sockp)) \
    X(CURLMcode, curl_multi_socket_action, (CURLM *multi_handle, curl_socket_t s, int ev_bitmask, int *running_handles), \
      (multi_handle, s, ev_bitmask, running_handles)) \
    X(CURLU *, curl_url, (void), ()) \
    X(CURLUcode, curl_url_get, (CURLU *handle, CURLUPart what, char **part, unsigned int flags), (handle, what, part, flags)) \
    X(CURLUcode, curl_url_set, (CURLU *handle, CURLUPart what, const char *part, unsigned int flags), (handle, what, part, flags)) \
    X(char *, curl_version, (void), ()) \
    X(curl_version_info_data *, curl_version_info, (CURLversion stamp), (stamp))
#define CURL_PROCEDURES(X) \
    X(curl_easy_cleanup, (CURL *curl), (curl)) \
    X(curl_slist_free_all, (struct curl_slist *list), (list)) \
    X(curl_free, (void *p), (p))

enum {
    CURL_FUNCTIONS(LOADED_INDEX) CURL_PROCEDURES(LOADED_PROCEDURE_INDEX)
    index_curl_easy_setopt, index_curl_easy_getinfo, index_curl_multi_setopt, function_count
};
static const char *const names[] = {
    CURL_FUNCTIONS(LOADED_NAME) CURL_PROCEDURES(LOADED_PROCEDURE_NAME)
    "curl_easy_setopt", "curl_easy_getinfo", "curl_multi_setopt"
};
static void *functions[function_count];
static struct loaded_library libcurl = LOADED_LIBRARY("libcurl.so.4", names, functions);

const char *ccurl_load(void) { return loaded_library_open(&libcurl); }

#define LOADED_FROM libcurl
CURL_FUNCTIONS(LOADED_FORWARD)
CURL_PROCEDURES(LOADED_FORWARD_PROCEDURE)

/* The variadic three take exactly one value after the option, as libcurl reads it: a long, a pointer
 * (data or function) or a curl_off_t, each one 64-bit integer-class argument on LP64 Linux, passed on as
 * the same bits. */
_Static_assert(sizeof(long) == sizeof(void *) && sizeof(curl_off_t) == sizeof(void *),
               "the variadic forwarding below assumes LP64");
#define FORWARD_VARIADIC(type, name, handle_type, option_type) \
    type name(handle_type handle, option_type option, ...) { \
        va_list values; \
        va_start(values, option); \
        void *value = va_arg(values, void *); \
        va_end(values); \
        return ((type (*)(handle_type, option_type, ...)) loaded_library_function(&libcurl, index_##name))(handle, option, value); \
    }
FORWARD_VARIADIC(CURLcode, curl_easy_setopt, CURL *, CURLoption)
FORWARD_VARIADIC(CURLcode, curl_easy_getinfo, CURL *, CURLINFO)
FORWARD_VARIADIC(CURLMcode, curl_multi_setopt, CURLM *, CURLMoption)
