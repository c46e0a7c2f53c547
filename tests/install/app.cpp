// app.cpp: a C++ program against the installed headers: every public
// header compiles as C++ (extern "C", no C-only constructs), and the
// names link from the installed library.
#include <cstdio>
#include <cstring>
#include <insomnia/insomnia.h>

int main()
{
	insomnia_error err;
	char root[INSOMNIA_PATH_MAX];

	insomnia_error_clear(&err);
	if (std::strcmp(insomnia_version(), INSOMNIA_VERSION_STRING) != 0) {
		std::fprintf(stderr, "header %s, library %s\n",
		             INSOMNIA_VERSION_STRING, insomnia_version());
		return 1;
	}
	if (insomnia_name_check("../evil", &err) == 0 ||
	    err.kind != INSOMNIA_ERR_BAD_NAME) {
		std::fprintf(stderr, "a bad name was accepted\n");
		return 1;
	}
	if (insomnia_runtime_root(root, sizeof root, &err) < 0) {
		std::fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	std::printf("c++ ok: libinsomnia %s, protocol %d, exit code of %s: %d\n",
	            insomnia_version(), insomnia_protocol_version(),
	            insomnia_error_kind_name(INSOMNIA_ERR_CONFIG),
	            insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	insomnia_cleanup();
	return 0;
}
