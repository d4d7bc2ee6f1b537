"""Names, environment variables, limits and exit codes: the project's constants in one place."""

from __future__ import annotations

PROJECT = "policyengine"
RULE_SUFFIX = ".policy"
ISSUES_URL = "https://github.com/policyengine/policyengine/issues"

# Environment variables.
ENV_NO_COLOR = "NO_COLOR"
ENV_FORCE_COLOR = "FORCE_COLOR"
ENV_CACHE_DIR = "POLICYENGINE_CACHE_DIR"
ENV_PLUGINS = "POLICYENGINE_PLUGINS"  # comma-separated modules or files to load as plugins
ENV_PLUGINS_ALLOW = "POLICYENGINE_PLUGINS_ALLOW"  # only these installed (entry-point) plugins load
ENV_PLUGINS_BLOCK = "POLICYENGINE_PLUGINS_BLOCK"  # these installed (entry-point) plugins never load
ENV_TRACE_HOOKS = "POLICYENGINE_TRACE_HOOKS"  # print every hook call on stderr

# Exit codes: a documented contract (docs/cli.md).
EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

# Bounds on input, so that hostile input ends in a diagnostic and not in exhaustion.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_SYNTAX_ERRORS_PER_FILE = 50
MAX_NESTING = 64  # lists in lists, `not` after `not`: the language needs one level (E109)
MAX_LIST_ITEMS = 10_000  # items of one list once named lists are spliced in (E318)
MAX_RUN_VALUES = 1_000_000  # list items reached through names, and exclusion values times targets (E319)
REQUEST_VALUES = 8  # what a request holds besides its exclusions: ARN, status, role, ... (E319)
MAX_SUGGESTION_WORK = 500_000  # names compared for E201's did-you-mean hints in a run; then no suggestion

# clientToken: the service model allows 64 characters, older service versions 36.
CLIENT_TOKEN_MAX = 36
