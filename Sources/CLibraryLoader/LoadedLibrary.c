#include "CLibraryLoader.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

const char *loaded_library_open(struct loaded_library *library) {
    int state = __atomic_load_n(&library->state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        pthread_mutex_lock(&library->lock);
        if (library->state == 0) {
            state = 1;
            void *handle = dlopen(library->soname, RTLD_NOW | RTLD_LOCAL);
            if (handle == NULL) {
                snprintf(library->failure, sizeof library->failure, "%s", dlerror());
                state = 2;
            }
            for (size_t index = 0; state == 1 && index < library->count; index++) {
                library->functions[index] = dlsym(handle, library->names[index]);
                if (library->functions[index] == NULL) {
                    snprintf(library->failure, sizeof library->failure, "%s has no %s", library->soname,
                             library->names[index]);
                    state = 2;
                }
            }
            __atomic_store_n(&library->state, state, __ATOMIC_RELEASE);
        }
        state = library->state;
        pthread_mutex_unlock(&library->lock);
    }
    return state == 1 ? NULL : library->failure;
}

void *loaded_library_function(struct loaded_library *library, size_t index) {
    const char *failure = loaded_library_open(library);
    if (failure != NULL) {
        fprintf(stderr, "cloudron-audit: cannot load %s: %s\n", library->soname, failure);
        abort();
    }
    return library->functions[index];
}
