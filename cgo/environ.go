package main

/*
extern char **environ;

static char *jl_environ_at(int i) { return environ[i]; }
*/
import "C"

import (
	"os"
	"strings"
)

// syncEnviron makes Go's view of the environment match the process's. A Go
// shared library copies the environment once, when it is loaded, and never looks
// at it again; Python code that sets os.environ["AWS_PROFILE"] (or any AWS_*
// variable) after `import jetliner` would otherwise be ignored by the S3 client.
// Every scan starts by calling this, so the AWS SDK sees the environment as it is
// when the read starts.
func syncEnviron() {
	current := map[string]string{}
	for i := 0; ; i++ {
		p := C.jl_environ_at(C.int(i))
		if p == nil {
			break
		}
		k, v, ok := strings.Cut(C.GoString(p), "=")
		if ok && k != "" {
			current[k] = v
		}
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := current[k]; !ok && k != "" {
			os.Unsetenv(k)
		}
	}
	for k, v := range current {
		if old, ok := os.LookupEnv(k); !ok || old != v {
			os.Setenv(k, v)
		}
	}
}
